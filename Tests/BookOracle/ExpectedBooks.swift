// Placeholder: being written (the independent oracle of ACCOUNTING.md over a generated store day).
public enum ExpectedBooks {}
