"""Reference lists the network's services share, kept as data files beside this module."""
