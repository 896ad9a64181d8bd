"""Reference attentional seq2seq models: score functions, RNN encoder-decoders, checkpoints."""
