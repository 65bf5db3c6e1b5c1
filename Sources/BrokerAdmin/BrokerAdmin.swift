public enum BrokerAdmin {}
