// Placeholder: the fraud scoring library (issue 6) is being written.
public enum FraudScoring {}
