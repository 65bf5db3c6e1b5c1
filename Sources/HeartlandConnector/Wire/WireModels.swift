// Heartland Retail's catalog and customer models live in HeartlandWire (Foundation only), so that the transformer reads the
// customers served with a batch without linking this HTTP connector. The connector's users get them through it.
@_exported import HeartlandWire
