"""Recording runs: the Run and how it starts, the writer thread, validation at the door, and the helpers a run
holds (artifacts, alerts, environment tracking, extra fields)."""
