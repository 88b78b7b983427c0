"""Hardware metrics: their names and units, the probes that read the machine, the sampler thread, summaries."""
