"""Reading records from files and streams, writing them back atomically."""
