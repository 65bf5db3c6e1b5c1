// Placeholder: the operations console (issue 7) is being written.
public enum OperationsConsole {}
