"""Reading runs back: runs(), load_run() and RunRecord, the omega|ml-style experiment(), and comparisons."""
