public enum SageSimulator {}
