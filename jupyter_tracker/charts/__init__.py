"""Pure chart functions: Vega-Lite specs, the one min/max downsampler, offline Vega JS and static images."""
