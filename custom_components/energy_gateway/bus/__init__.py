"""A bus of many meters in one entry (Modbus): its flow, coordinator, sensors and diagnostics."""
