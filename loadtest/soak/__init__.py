"""``outpost soak``: the realistic mix through the edge for a long time, at a share of capacity."""
