"""Model families behind one interface: checkpoints, wrap() for any nn.Module, reference RNNs."""
