"""The naive way to serve the model, as the previous project did: FastAPI, the PyTorch model run eagerly, one image per
call. `bench/serve.py` measures it beside `fingers serve`.

    MODEL=runs/x/model.pt uvicorn --app-dir bench serve_baseline:app --port 8001
"""

import os

import numpy as np
import torch
from fastapi import FastAPI, UploadFile

from fingers.core import CLASSES
from fingers.model import load_model
from fingers.preprocess import prepare

model = load_model(os.environ["MODEL"])
app = FastAPI()


@app.post("/predict")
async def predict(files: UploadFile):
    x = torch.from_numpy(prepare(await files.read()).astype(np.float32) / 255)[None, None]
    with torch.no_grad():
        p = torch.softmax(model(x), 1)[0].numpy()
    return {"label": CLASSES[int(p.argmax())], "confidence": float(p.max())}
