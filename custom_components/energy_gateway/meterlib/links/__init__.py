"""How bytes reach the library: serial ports and TCP streams, the push stream and the poll loop."""
