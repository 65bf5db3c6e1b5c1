public enum HeartlandSimulator {}
