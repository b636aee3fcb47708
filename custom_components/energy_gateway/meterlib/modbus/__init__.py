"""Modbus meter fleets: register maps, decoding, read planning, scanning and polling.

RS485 lines (Modbus RTU), Modbus TCP meters and RTU-over-TCP gateways with up to 247 meters,
found and identified from the register maps in `maps/`, polled with coalesced reads.
"""
