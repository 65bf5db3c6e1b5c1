public enum WorkerRuntime {}
