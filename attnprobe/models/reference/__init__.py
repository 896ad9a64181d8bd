"""attnprobe's own reference models: score functions, RNN encoder-decoders, the trainer."""
