"""MediaPipe Hands (palm_detection_full + hand_landmark_full) on onnxruntime, numpy-only.

Re-implements the CPU graph of the legacy ``mediapipe.solutions.hands`` in static-image mode
(mediapipe 0.10.14, model_complexity=1): HandLandmarkTrackingCpu -> PalmDetectionCpu ->
PalmDetectionDetectionToRoi -> HandLandmarkCpu. Every constant below is the one in the graph
configs shipped inside the 0.10.14 wheel.

Imports: numpy, onnxruntime (Pillow only for the optional ``load_rgb`` helper).

    from hands_onnx import HandLandmarker
    hl = HandLandmarker("models/")                 # palm_detection_full.onnx, hand_landmark_full.onnx
    for hand in hl.detect(rgb_uint8):              # HxWx3 uint8 RGB
        hand.landmarks    # (21, 3) float32: x, y in pixels, z in pixels (relative depth, x scale)
        hand.presence     # hand-presence score of the landmark model (kept if >= 0.5)
        hand.handedness   # raw handedness output: P("Right") in mediapipe's (mirrored/selfie) convention
        hand.palm_box     # (xmin, ymin, xmax, ymax) in pixels, palm detector box
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort

# ---------------------------------------------------------------- constants (from the graphs)
PALM_SIZE = 192          # ImageToTensorCalculator 192x192, keep_aspect_ratio, range [0,1], BORDER_ZERO
LANDMARK_SIZE = 224      # ImageToTensorCalculator 224x224, keep_aspect_ratio, range [0,1], BORDER_REPLICATE
# SsdAnchorsCalculator
ANCHOR_STRIDES = (8, 16, 16, 16)
# TensorsToDetectionsCalculator
NUM_KEYPOINTS = 7
BOX_SCALE = 192.0
SCORE_CLIP = 100.0
# NonMaxSuppressionCalculator
NMS_IOU = 0.3
# PalmDetectionDetectionToRoi: DetectionsToRects(kp 0 -> kp 2, 90 deg) + RectTransformation
ROT_START_KP, ROT_END_KP, ROT_TARGET = 0, 2, math.pi / 2
ROI_SCALE, ROI_SHIFT_Y = 2.6, -0.5
# TensorsToLandmarksCalculator
NORMALIZE_Z = 0.4


@dataclass
class Hand:
    landmarks: np.ndarray        # (21, 3) pixels
    presence: float
    handedness: float            # P("Right"), mediapipe label convention (assumes a mirrored image)
    palm_box: tuple              # (xmin, ymin, xmax, ymax) pixels
    palm_score: float
    palm_keypoints: np.ndarray   # (7, 2) pixels
    roi: tuple                   # (cx, cy, w, h, rotation_rad) in pixels, the landmark model's crop

    @property
    def handedness_label(self) -> str:
        return "Right" if self.handedness > 0.5 else "Left"


# ---------------------------------------------------------------- geometry helpers
def ssd_anchors(size: int = PALM_SIZE, strides=ANCHOR_STRIDES) -> np.ndarray:
    """Anchor centres (N, 2) as SsdAnchorsCalculator builds them for palm_detection_full
    (aspect_ratios=[1.0] + interpolated scale -> 2 anchors per layer; layers of equal stride are
    merged; fixed_anchor_size -> w = h = 1, so only centres matter)."""
    out = []
    i = 0
    while i < len(strides):
        j = i
        while j < len(strides) and strides[j] == strides[i]:
            j += 1
        n_per_cell = 2 * (j - i)
        fm = int(math.ceil(size / strides[i]))
        ys, xs = np.meshgrid((np.arange(fm) + 0.5) / fm, (np.arange(fm) + 0.5) / fm, indexing="ij")
        c = np.stack([xs.ravel(), ys.ravel()], 1)
        out.append(np.repeat(c, n_per_cell, axis=0))
        i = j
    return np.concatenate(out).astype(np.float32)


def _normalize_radians(a: float) -> float:
    return a - 2 * math.pi * math.floor((a + math.pi) / (2 * math.pi))


def warp_roi(img: np.ndarray, roi, out_size: int, border: str) -> np.ndarray:
    """Rotated-rect crop to out_size x out_size, as mediapipe's OpenCV ImageToTensor converter does:
    cv::warpPerspective(boxPoints(roi) -> [0,W]x[0,H] corners, INTER_LINEAR) on the uint8 image,
    then value scaling. Destination pixel (u, v) samples the source at
    centre + R(rot) @ ((u/W - 0.5) w, (v/H - 0.5) h). Coordinates are quantised to 1/32 px and the
    result rounded to uint8, like OpenCV's fixed-point remap. border: 'zero' | 'replicate'.
    Returns float32 (out, out, 3) in [0, 1]."""
    cx, cy, w, h, rot = roi
    if border == "zero":        # a 1-px zero frame + index clamping == zeros outside the image
        img = np.pad(img, ((1, 1), (1, 1), (0, 0)))
        cx, cy = cx + 1, cy + 1
    H, W = img.shape[:2]
    t = np.arange(out_size, dtype=np.float64) / out_size - 0.5
    c, s = math.cos(rot), math.sin(rot)
    du, dv = t[None, :] * w, t[:, None] * h                  # dst column u, row v
    sx = np.round((cx + c * du - s * dv) * 32)              # 1/32-px fixed point, like INTER_TAB_SIZE
    sy = np.round((cy + s * du + c * dv) * 32)
    x0 = np.floor_divide(sx, 32); y0 = np.floor_divide(sy, 32)
    fx = ((sx - 32 * x0) / 32).astype(np.float32)[..., None]
    fy = ((sy - 32 * y0) / 32).astype(np.float32)[..., None]
    x0 = x0.astype(np.intp); y0 = y0.astype(np.intp)
    xa, xb = np.clip(x0, 0, W - 1), np.clip(x0 + 1, 0, W - 1)
    ya, yb = np.clip(y0, 0, H - 1), np.clip(y0 + 1, 0, H - 1)
    flat = img.reshape(-1, 3).astype(np.float32)
    tap = lambda yy, xx: flat[yy * W + xx]
    top = tap(ya, xa) + (tap(ya, xb) - tap(ya, xa)) * fx
    bot = tap(yb, xa) + (tap(yb, xb) - tap(yb, xa)) * fx
    v = np.floor(top + (bot - top) * fy + 0.5)              # uint8 result of the warp
    return v * np.float32(1 / 255.0)


def pad_roi_square(roi):
    """ImageToTensor keep_aspect_ratio for a square tensor: grow the short side; return roi and
    letterbox padding (left, top, right, bottom) as fractions of the padded roi."""
    cx, cy, w, h, rot = roi
    if w >= h:
        pad = (1 - h / w) / 2
        return (cx, cy, w, w, rot), (0.0, pad, 0.0, pad)
    pad = (1 - w / h) / 2
    return (cx, cy, h, h, rot), (pad, 0.0, pad, 0.0)


def weighted_nms(boxes, kps, scores, iou_thr=NMS_IOU):
    """NonMaxSuppressionCalculator, algorithm WEIGHTED, IoU. boxes (N,4) xmin,ymin,xmax,ymax.
    Each output keeps the top score of its cluster; box and keypoints are score-weighted means."""
    order = np.argsort(-scores, kind="stable")
    remaining = list(order)
    out = []
    while remaining:
        top = remaining[0]
        b = boxes[remaining]
        ix = np.clip(np.minimum(b[:, 2], boxes[top, 2]) - np.maximum(b[:, 0], boxes[top, 0]), 0, None)
        iy = np.clip(np.minimum(b[:, 3], boxes[top, 3]) - np.maximum(b[:, 1], boxes[top, 1]), 0, None)
        inter = ix * iy
        area = lambda z: (z[..., 2] - z[..., 0]) * (z[..., 3] - z[..., 1])
        union = area(b) + area(boxes[top]) - inter
        iou = np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)
        cand = np.array(remaining)[iou > iou_thr]
        rest = [r for r, o in zip(remaining, iou) if not o > iou_thr]
        if len(cand):
            wts = scores[cand][:, None]
            tot = wts.sum()
            box = (boxes[cand] * wts).sum(0) / tot
            kp = (kps[cand] * wts[:, :, None]).sum(0) / tot
        else:
            box, kp = boxes[top], kps[top]
        out.append((box, kp, float(scores[top])))
        if len(rest) == len(remaining):
            break
        remaining = rest
    return out


# ---------------------------------------------------------------- the landmarker
class HandLandmarker:
    def __init__(self, model_dir: str, max_num_hands: int = 1, min_detection_confidence: float = 0.5,
                 min_presence_confidence: float = 0.5, num_threads: int | None = None,
                 palm_model: str = "palm_detection_full.onnx", landmark_model: str = "hand_landmark_full.onnx"):
        so = ort.SessionOptions()
        if num_threads:
            so.intra_op_num_threads = num_threads
            so.inter_op_num_threads = 1
        prov = ["CPUExecutionProvider"]
        self.palm = ort.InferenceSession(os.path.join(model_dir, palm_model), so, providers=prov)
        self.lmk = ort.InferenceSession(os.path.join(model_dir, landmark_model), so, providers=prov)
        self.palm_in = self.palm.get_inputs()[0].name
        self.lmk_in = self.lmk.get_inputs()[0].name
        self.anchors = ssd_anchors()
        self.max_num_hands = max_num_hands
        self.min_det = min_detection_confidence
        self.min_presence = min_presence_confidence

    # -- palm detection ------------------------------------------------------------------
    def palm_input(self, img):
        H, W = img.shape[:2]
        roi, pad = pad_roi_square((W / 2, H / 2, float(W), float(H), 0.0))
        return warp_roi(img, roi, PALM_SIZE, "zero")[None], pad

    def detect_palms(self, img):
        """Returns [(box_norm (4,), keypoints_norm (7,2), score)], normalised to the image, best first."""
        x, pad = self.palm_input(img)
        raw_boxes, raw_scores = self.palm.run(None, {self.palm_in: x})
        return self.decode_palms(raw_boxes[0], raw_scores[0, :, 0], pad)

    def decode_palms(self, raw_boxes, raw_scores, pad):
        scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores.astype(np.float64), -SCORE_CLIP, SCORE_CLIP)))
        keep = scores >= self.min_det
        if not keep.any():
            return []
        rb, sc, an = raw_boxes[keep].astype(np.float64), scores[keep], self.anchors[keep]
        cx = rb[:, 0] / BOX_SCALE + an[:, 0]
        cy = rb[:, 1] / BOX_SCALE + an[:, 1]
        w = rb[:, 2] / BOX_SCALE
        h = rb[:, 3] / BOX_SCALE
        boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 1)
        kps = rb[:, 4:4 + 2 * NUM_KEYPOINTS].reshape(-1, NUM_KEYPOINTS, 2) / BOX_SCALE + an[:, None, :]
        ok = (w >= 0) & (h >= 0)
        dets = weighted_nms(boxes[ok], kps[ok], sc[ok])
        # DetectionLetterboxRemovalCalculator
        left, t, r, b = pad
        sxy = np.array([1 - left - r, 1 - t - b])
        off = np.array([left, t])
        out = []
        for box, kp, s in dets:
            box = np.concatenate([(box[:2] - off) / sxy, (box[2:] - off) / sxy])
            out.append((box, (kp - off) / sxy, s))
        return out

    # -- palm -> hand roi ----------------------------------------------------------------
    @staticmethod
    def palm_to_roi(box, kps, W, H):
        """DetectionsToRectsCalculator (rotation from kp0 wrist to kp2 middle MCP, target 90 deg)
        then RectTransformationCalculator (scale 2.6, shift_y -0.5, square_long), on normalised
        coordinates like mediapipe; returned in pixels (cx, cy, w, h, rotation)."""
        xc, yc = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        w, h = box[2] - box[0], box[3] - box[1]
        x0, y0 = kps[ROT_START_KP, 0] * W, kps[ROT_START_KP, 1] * H
        x1, y1 = kps[ROT_END_KP, 0] * W, kps[ROT_END_KP, 1] * H
        rot = _normalize_radians(ROT_TARGET - math.atan2(-(y1 - y0), x1 - x0))
        if rot == 0.0:
            xc, yc = xc, yc + h * ROI_SHIFT_Y
        else:
            xs = (-H * h * ROI_SHIFT_Y * math.sin(rot)) / W
            ys = (H * h * ROI_SHIFT_Y * math.cos(rot)) / H
            xc, yc = xc + xs, yc + ys
        long_side = max(w * W, h * H)
        w, h = long_side / W * ROI_SCALE, long_side / H * ROI_SCALE
        return (xc * W, yc * H, w * W, h * H, rot)

    # -- landmarks -----------------------------------------------------------------------
    def landmarks(self, img, roi):
        """Runs the landmark model on a pixel roi; returns (landmarks px (21,3), presence, handedness)."""
        roi_p, pad = pad_roi_square(roi)
        x = warp_roi(img, roi_p, LANDMARK_SIZE, "replicate")[None]
        lm_raw, presence, handed, _world = self.lmk.run(None, {self.lmk_in: x})
        lm = lm_raw.reshape(21, 3).astype(np.float64) / LANDMARK_SIZE
        lm[:, 2] /= NORMALIZE_Z
        left, t, r, b = pad                                   # LandmarkLetterboxRemovalCalculator
        lm[:, 0] = (lm[:, 0] - left) / (1 - left - r)
        lm[:, 1] = (lm[:, 1] - t) / (1 - t - b)
        lm[:, 2] = lm[:, 2] / (1 - left - r)
        cx, cy, w, h, rot = roi                               # LandmarkProjectionCalculator
        dx, dy = lm[:, 0] - 0.5, lm[:, 1] - 0.5
        c, s = math.cos(rot), math.sin(rot)
        out = np.empty_like(lm)
        out[:, 0] = (c * dx - s * dy) * w + cx
        out[:, 1] = (s * dx + c * dy) * h + cy
        out[:, 2] = lm[:, 2] * w
        return out.astype(np.float32), float(presence.ravel()[0]), float(handed.ravel()[0])

    def detect(self, img: np.ndarray) -> list[Hand]:
        img = np.asarray(img)
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=2)
        if img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise ValueError("expected an HxWx3 uint8 RGB image")
        H, W = img.shape[:2]
        hands = []
        for box, kps, score in self.detect_palms(img)[: self.max_num_hands]:
            roi = self.palm_to_roi(box, kps, W, H)
            lm, presence, handed = self.landmarks(img, roi)
            if presence < self.min_presence:
                continue
            hands.append(Hand(lm, presence, handed,
                              (box[0] * W, box[1] * H, box[2] * W, box[3] * H), score,
                              (kps * [W, H]).astype(np.float32), roi))
        return hands


def load_rgb(path: str) -> np.ndarray:
    from PIL import Image
    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))
