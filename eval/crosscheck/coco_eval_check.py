#!/usr/bin/env python3
"""Independent reference implementation of the detection-evaluation protocol.

This script re-computes, from scratch, the figures that the Java evaluator
writes to report.json, so that the two implementations can be checked against
each other.  It shares no code with the Java side; it was written directly
from the protocol below.

Usage
-----
    coco_eval_check.py --dataset DIR --predictions predictions.json
                       [--report report.json] [--category ID ...]
                       [--score-threshold S]

Prints the metrics as JSON on stdout.  With --report it then compares every
figure with the Java report (same key structure), prints one line per
mismatch and a final line "crosscheck: N figures agree, M differ", and exits
with status 1 if any figure differs (0 otherwise).

Inputs
------
* DIR/_annotations.coco.json, COCO detection format.  A ground-truth box
  [x, y, w, h] becomes [x, y, x+w, y+h].  Every image in "images" is
  evaluated, including images without annotations; annotations that refer to
  an image not in "images" are ignored.
* Categories: those given with --category; by default every category whose
  name is not the supercategory of some category (in the coins-dev set the
  umbrella category 0 "Coin-Dataset" is excluded and category 1 is kept).
  Only annotations of the selected categories count.
* predictions.json: a list of {"file_name", "bbox": [xmin, ymin, xmax, ymax],
  "score"}.  Predictions for file names that are not in the dataset are
  ignored.  Predictions with score < S (--score-threshold, default 0.0) are
  dropped before every step except the best-threshold sweep (step 6), which
  uses all predictions.

Protocol (per image: P = its predictions, G = its ground-truth boxes)
--------------------------------------------------------------------
1. IoU(a, b) = intersection area / union area, with intersection width
   max(0, min(ax1, bx1) - max(ax0, bx0)) and likewise for the height;
   IoU = 0 when the union area is 0.  (A box with x1 < x0 or y1 < y0 is
   treated as having area 0.)
2. Assignment: one-to-one matching of P to G that maximises the total IoU
   (scipy.optimize.linear_sum_assignment on the cost 1 - IoU; rectangular
   matrices allowed; no pairs when P or G is empty).  For each IoU threshold
   t in {0.3, 0.5, 0.7, 0.9}: TP_i = number of assigned pairs with IoU >= t,
   FP_i = |P| - TP_i, FN_i = |G| - TP_i.
3. Totals over all images: TP, FP, FN; precision = TP / (TP + FP),
   recall = TP / (TP + FN), f1 = 2PR / (P + R), each 0 when its denominator
   is 0; meanIoU = mean IoU of all pairs counted as TP (null when none).
4. Jaccard index of the union-of-boxes regions, per image:
   J_i = area(U_P & U_G) / area(U_P | U_G), where U_P is the union of the
   predicted boxes as a region of the continuous plane (exact area, computed
   by coordinate compression over all box edges; overlapping boxes are not
   counted twice), U_G likewise.  J_i = 1 when the union has area 0 (both
   empty).  Reported: mean over images, weightedMean (weights |G_i|, null if
   all weights are 0), min and max.
5. COCO-style average precision at IoU u in 0.50, 0.55, ..., 0.95:
   per image keep the 100 highest-scored predictions (stable sort by
   descending score, so equal scores keep their order in predictions.json)
   and match them greedily in that order: each prediction takes the
   not-yet-matched ground truth with the highest IoU among those with
   IoU >= u (ties: lowest ground-truth index, in annotation order); matched
   predictions are TP, the others FP.  All images' predictions are then
   concatenated (in the order of the "images" list) and stably sorted by
   descending score; recall = cumTP / totalGT, precision = cumTP / (cumTP +
   cumFP); precision is made non-increasing from the right
   (precision[k] = max(precision[k:])) and sampled at the 101 recall points
   r = numpy.linspace(0, 1, 101) (element k is k * 0.01, except the last, 1):
   p(r) = precision[first k with recall[k] >= r], or 0 when there is none.
   AP(u) = mean of the 101 values; null when totalGT = 0.
   Reported: ap50 = AP(0.50), ap75 = AP(0.75), ap50_95 = mean of the 10 APs,
   and prCurve = {recall: the 101 points, precision: p(r) at u = 0.50}
   (101 nulls when totalGT = 0).
6. Best score threshold: for s in 0.00, 0.01, ..., 1.00 keep the predictions
   with score >= s and compute steps 2-3 at t = 0.5; best = the s with the
   highest f1, the lowest s on ties.  Reported: score, f1, precision, recall.

Comparison with --report
------------------------
Compared figures: thresholds.*.*, jaccard.*, ap.*, bestThreshold.* and every
element of prCurve.precision.  Two numbers agree when they differ by at most
0.00005 (agreement to 4 decimal places); two nulls agree; a figure missing
from the report, or of another type there, differs.  Other keys of the report
are ignored.
"""

import argparse
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import linear_sum_assignment

MATCH_IOU_THRESHOLDS = (0.3, 0.5, 0.7, 0.9)
AP_IOU_THRESHOLDS = tuple(round(0.5 + 0.05 * k, 2) for k in range(10))
RECALL_POINTS = np.linspace(0.0, 1.0, 101)
SWEEP_SCORES = tuple(round(k / 100, 2) for k in range(101))
SWEEP_IOU_THRESHOLD = 0.5
MAX_DETECTIONS_PER_IMAGE = 100
TOLERANCE = 0.5e-4  # "agree to 4 decimal places"


@dataclass
class Image:
    """One evaluated image: ground-truth boxes and predictions, as [x0, y0, x1, y1] rows."""

    file_name: str
    gt_boxes: np.ndarray  # shape (|G|, 4), annotation order
    pred_boxes: np.ndarray  # shape (|P|, 4), predictions.json order
    pred_scores: np.ndarray  # shape (|P|,)

    def with_min_score(self, min_score):
        keep = self.pred_scores >= min_score
        return Image(self.file_name, self.gt_boxes, self.pred_boxes[keep], self.pred_scores[keep])


# --------------------------------------------------------------------------- input


def load_images(dataset_dir, predictions_path, category_ids=None):
    """Reads the COCO annotations and the predictions; returns one Image per dataset image."""
    coco = json.loads((Path(dataset_dir) / "_annotations.coco.json").read_text())

    if category_ids is None:
        supercategories = {c.get("supercategory") for c in coco["categories"]}
        category_ids = {c["id"] for c in coco["categories"] if c["name"] not in supercategories}
    category_ids = set(category_ids)

    gt_by_image_id = {image["id"]: [] for image in coco["images"]}
    for annotation in coco["annotations"]:
        if annotation["category_id"] in category_ids and annotation["image_id"] in gt_by_image_id:
            x, y, w, h = (float(v) for v in annotation["bbox"])
            gt_by_image_id[annotation["image_id"]].append([x, y, x + w, y + h])

    preds_by_name = {image["file_name"]: [] for image in coco["images"]}
    ignored = 0
    for prediction in json.loads(Path(predictions_path).read_text()):
        if prediction["file_name"] in preds_by_name:
            box = [float(v) for v in prediction["bbox"]]
            preds_by_name[prediction["file_name"]].append((box, float(prediction["score"])))
        else:
            ignored += 1
    if ignored:
        print(f"note: ignored {ignored} predictions for file names not in the dataset", file=sys.stderr)

    images = []
    for image in coco["images"]:
        preds = preds_by_name[image["file_name"]]
        images.append(Image(
            file_name=image["file_name"],
            gt_boxes=np.array(gt_by_image_id[image["id"]], dtype=float).reshape(-1, 4),
            pred_boxes=np.array([box for box, _ in preds], dtype=float).reshape(-1, 4),
            pred_scores=np.array([score for _, score in preds], dtype=float),
        ))
    return images


# --------------------------------------------------------------------------- geometry


def box_areas(boxes):
    return np.clip(boxes[:, 2] - boxes[:, 0], 0, None) * np.clip(boxes[:, 3] - boxes[:, 1], 0, None)


def iou_matrix(a, b):
    """IoU of every box of a (rows) with every box of b (columns)."""
    inter_w = np.clip(np.minimum(a[:, None, 2], b[None, :, 2]) - np.maximum(a[:, None, 0], b[None, :, 0]), 0, None)
    inter_h = np.clip(np.minimum(a[:, None, 3], b[None, :, 3]) - np.maximum(a[:, None, 1], b[None, :, 1]), 0, None)
    inter = inter_w * inter_h
    union = box_areas(a)[:, None] + box_areas(b)[None, :] - inter
    iou = np.zeros_like(inter)
    np.divide(inter, union, out=iou, where=union > 0)
    return iou


def union_jaccard(pred_boxes, gt_boxes):
    """Exact area(U_P & U_G) / area(U_P | U_G) of the two unions of boxes.

    All box edges cut the plane into a grid of cells; every cell is either
    entirely inside or entirely outside each box, so marking the cells each
    box covers and summing the cell areas gives exact region areas.
    """
    boxes = np.vstack([pred_boxes, gt_boxes])
    xs = np.unique(np.concatenate([boxes[:, 0], boxes[:, 2]]))
    ys = np.unique(np.concatenate([boxes[:, 1], boxes[:, 3]]))
    cell_areas = np.diff(xs)[:, None] * np.diff(ys)[None, :]

    def covered_cells(box_list):
        covered = np.zeros(cell_areas.shape, dtype=bool)
        for x0, y0, x1, y1 in box_list:
            i0, i1 = np.searchsorted(xs, [x0, x1])
            j0, j1 = np.searchsorted(ys, [y0, y1])
            covered[i0:i1, j0:j1] = True  # empty slice for a degenerate box
        return covered

    in_pred = covered_cells(pred_boxes)
    in_gt = covered_cells(gt_boxes)
    union_area = cell_areas[in_pred | in_gt].sum()
    if union_area == 0:
        return 1.0
    return float(cell_areas[in_pred & in_gt].sum() / union_area)


# --------------------------------------------------------------------------- steps 2-3


def assigned_pair_ious(iou):
    """IoUs of the pairs of an optimal one-to-one assignment (maximum total IoU)."""
    if iou.size == 0:
        return np.empty(0)
    rows, cols = linear_sum_assignment(1.0 - iou)
    return iou[rows, cols]


def ratio(numerator, denominator):
    return numerator / denominator if denominator > 0 else 0.0


def counting_metrics(assignments, t):
    """Totals of step 3 at IoU threshold t.

    assignments: one (|P_i|, |G_i|, assigned pair IoUs) triple per image.
    """
    tp = fp = fn = 0
    tp_ious = []
    for n_pred, n_gt, pair_ious in assignments:
        hits = pair_ious[pair_ious >= t]
        tp += len(hits)
        fp += n_pred - len(hits)
        fn += n_gt - len(hits)
        tp_ious.extend(hits.tolist())
    precision = ratio(tp, tp + fp)
    recall = ratio(tp, tp + fn)
    f1 = ratio(2 * precision * recall, precision + recall)
    return {
        "tp": tp, "fp": fp, "fn": fn,
        "precision": precision, "recall": recall, "f1": f1,
        "meanIoU": float(np.mean(tp_ious)) if tp_ious else None,
    }


def assignments_of(images):
    return [(len(im.pred_boxes), len(im.gt_boxes), assigned_pair_ious(iou_matrix(im.pred_boxes, im.gt_boxes)))
            for im in images]


# --------------------------------------------------------------------------- step 4


def jaccard_stats(images):
    values = np.array([union_jaccard(im.pred_boxes, im.gt_boxes) for im in images])
    weights = np.array([len(im.gt_boxes) for im in images], dtype=float)
    if len(values) == 0:
        return {"mean": None, "weightedMean": None, "min": None, "max": None}
    return {
        "mean": float(values.mean()),
        "weightedMean": float((values * weights).sum() / weights.sum()) if weights.sum() > 0 else None,
        "min": float(values.min()),
        "max": float(values.max()),
    }


# --------------------------------------------------------------------------- step 5


def greedy_match(pred_boxes, gt_boxes, u):
    """For predictions already in score order: True where the prediction is a TP at IoU u."""
    iou = iou_matrix(pred_boxes, gt_boxes)
    taken = np.zeros(len(gt_boxes), dtype=bool)
    is_tp = np.zeros(len(pred_boxes), dtype=bool)
    for p in range(len(pred_boxes)):
        eligible = np.flatnonzero(~taken & (iou[p] >= u))
        if len(eligible):
            best = eligible[np.argmax(iou[p, eligible])]  # argmax: first (lowest index) on ties
            taken[best] = True
            is_tp[p] = True
    return is_tp


def interpolated_precision(images, u):
    """The 101 interpolated precisions at IoU u, or None when there is no ground truth."""
    total_gt = sum(len(im.gt_boxes) for im in images)
    if total_gt == 0:
        return None
    scores, hits = [], []
    for im in images:
        top = np.argsort(-im.pred_scores, kind="stable")[:MAX_DETECTIONS_PER_IMAGE]
        scores.append(im.pred_scores[top])
        hits.append(greedy_match(im.pred_boxes[top], im.gt_boxes, u))
    scores = np.concatenate(scores)
    hits = np.concatenate(hits)

    order = np.argsort(-scores, kind="mergesort")
    cum_tp = np.cumsum(hits[order])
    cum_fp = np.cumsum(~hits[order])
    recall = cum_tp / total_gt
    precision = cum_tp / (cum_tp + cum_fp)  # never 0 / 0: entry k counts k + 1 predictions
    precision = np.maximum.accumulate(precision[::-1])[::-1]

    first = np.searchsorted(recall, RECALL_POINTS, side="left")
    sampled = np.zeros(len(RECALL_POINTS))
    reached = first < len(recall)
    sampled[reached] = precision[first[reached]]
    return sampled


def average_precision(images):
    curves = {u: interpolated_precision(images, u) for u in AP_IOU_THRESHOLDS}
    aps = {u: (float(curve.mean()) if curve is not None else None) for u, curve in curves.items()}
    pr50 = curves[0.5]
    ap = {
        "ap50": aps[0.5],
        "ap75": aps[0.75],
        "ap50_95": float(np.mean(list(aps.values()))) if aps[0.5] is not None else None,
    }
    pr_curve = {
        "recall": RECALL_POINTS.tolist(),
        "precision": pr50.tolist() if pr50 is not None else [None] * len(RECALL_POINTS),
    }
    return ap, pr_curve


# --------------------------------------------------------------------------- step 6


def best_threshold(images):
    """Score threshold with the highest F1 at IoU 0.5 (lowest threshold on ties)."""
    ious = [iou_matrix(im.pred_boxes, im.gt_boxes) for im in images]
    best = None
    for s in SWEEP_SCORES:
        assignments = []
        for im, iou in zip(images, ious):
            keep = im.pred_scores >= s
            assignments.append((int(keep.sum()), len(im.gt_boxes), assigned_pair_ious(iou[keep])))
        m = counting_metrics(assignments, SWEEP_IOU_THRESHOLD)
        if best is None or m["f1"] > best["f1"]:
            best = {"score": s, "f1": m["f1"], "precision": m["precision"], "recall": m["recall"]}
    return best


# --------------------------------------------------------------------------- all metrics


def evaluate(images, score_threshold=0.0):
    kept = [im.with_min_score(score_threshold) for im in images]
    assignments = assignments_of(kept)
    ap, pr_curve = average_precision(kept)
    return {
        "thresholds": {str(t): counting_metrics(assignments, t) for t in MATCH_IOU_THRESHOLDS},
        "jaccard": jaccard_stats(kept),
        "ap": ap,
        "bestThreshold": best_threshold(images),  # the sweep uses all predictions
        "prCurve": pr_curve,
    }


# --------------------------------------------------------------------------- comparison

_ABSENT = object()


def compared_figures(metrics):
    """(key path, value) of every figure that is compared with the report."""
    for t, figures in metrics["thresholds"].items():
        for name, value in figures.items():
            yield ("thresholds", t, name), value
    for section in ("jaccard", "ap", "bestThreshold"):
        for name, value in metrics[section].items():
            yield (section, name), value
    for k, value in enumerate(metrics["prCurve"]["precision"]):
        yield ("prCurve", "precision", k), value


def lookup(report, path):
    node = report
    for key in path:
        if isinstance(key, int):
            if not isinstance(node, list) or key >= len(node):
                return _ABSENT
        elif not isinstance(node, dict) or key not in node:
            return _ABSENT
        node = node[key]
    return node


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def agree(ours, theirs):
    if ours is None or theirs is None:
        return ours is None and theirs is None
    if not (is_number(ours) and is_number(theirs)) or not math.isfinite(theirs):
        return False
    return abs(ours - theirs) <= TOLERANCE


def format_path(path):
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (("." if text else "") + key)
    return text


def crosscheck(metrics, report):
    """Prints one line per differing figure and a summary; returns the number that differ."""
    agreeing = differing = 0
    for path, ours in compared_figures(metrics):
        theirs = lookup(report, path)
        if theirs is not _ABSENT and agree(ours, theirs):
            agreeing += 1
        else:
            differing += 1
            shown = "<absent>" if theirs is _ABSENT else json.dumps(theirs)
            print(f"differ: {format_path(path)} ours={json.dumps(ours)} theirs={shown}")
    print(f"crosscheck: {agreeing} figures agree, {differing} differ")
    return differing


def main(argv=None):
    parser = argparse.ArgumentParser(description="Independent re-computation of the detection metrics.")
    parser.add_argument("--dataset", required=True, help="folder holding _annotations.coco.json")
    parser.add_argument("--predictions", required=True, help="predictions.json: [{file_name, bbox, score}]")
    parser.add_argument("--report", help="Java report.json to compare with")
    parser.add_argument("--category", type=int, nargs="+", metavar="ID",
                        help="category ids to evaluate (default: every category that is no supercategory)")
    parser.add_argument("--score-threshold", type=float, default=0.0, metavar="S",
                        help="drop predictions with score < S (not for the best-threshold sweep)")
    args = parser.parse_args(argv)

    images = load_images(args.dataset, args.predictions, args.category)
    metrics = evaluate(images, args.score_threshold)
    print(json.dumps(metrics, indent=2))

    if args.report:
        report = json.loads(Path(args.report).read_text())
        return 1 if crosscheck(metrics, report) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
