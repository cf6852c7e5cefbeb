"""fingers: count the fingers on a hand and tell a left hand from a right one, in photos.

The package is built from the notebooks in `nbs/` (nbdev) and installed in layers:

- `fingers.core`, `.preprocess`, `.synthetic`, `.data`, `.config`: numpy, Pillow and PyYAML only;
- `fingers.model`, `.augment`, `.scenes`, `.dataset`, `.train`, `.tracking`: PyTorch, for training
  (`pip install "fingers[train]"`);
- `fingers.evaluate`, `.robustness`, `.openset`, `.photos`, `.report`: how a model is judged (`fingers[monitor]`);
- `fingers.predict`, `.drift`, `.optimize`: an exported model on ONNX Runtime, no PyTorch (`fingers[predict]`,
  `fingers[monitor]`);
- `fingers.serve`: the HTTP service (`fingers[serve]`);
- `fingers.cli`: the `fingers` command.

Start with `fingers.predict.Predictor` to use a trained model, `fingers.data.load_data` to read the data,
or `fingers train` on the command line to train one.
"""
__version__ = "0.1.0"
