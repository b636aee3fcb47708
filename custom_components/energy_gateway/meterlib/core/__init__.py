"""What every family shares: the reading model, errors, OBIS codes, units, checksums, meaning."""
