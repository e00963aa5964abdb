"""Runtime adapters: implementations of :mod:`edge.ports` for one runtime each."""
