"""Storage folding: placeholder replaced below."""
def fold_storage(s, env):
    return s
