#!/usr/bin/env python3
"""Writes DICOM SEG test files (and a small source image) with known masks, for the dicom-seg reader.

Usage: make-dicom-seg.py OUT_DIR

Writes into OUT_DIR, with pydicom and numpy only (no highdicom):
- odd.dcm: a 13 x 11 (Rows x Columns) MONOCHROME2 source image with a fresh SOP Instance UID, so
  that a BINARY SEG's frames are not byte-aligned (143 bits each);
- one SEG per case (below), referencing pydicom-data's CT_small.dcm (128 x 128), MR_small.dcm
  (64 x 64), emri_small.dcm (64 x 64, 10 frames) and odd.dcm;
- for every region a SEG should give, its expected mask as raw bytes (Rows x Columns, 0 or 1);
and prints one JSON manifest: {"sources": {name: path}, "cases": {case: {"file": ..., "regions":
[{"label", "sop", "frame", "mask", "box": [x0, y0, x1, y1], "area"}]}}}.

Cases:
  binary      BINARY, 1 segment "liver": a rectangle on CT_small.
  fractional  FRACTIONAL (max 255), 1 segment "lesion" (SegmentLabel empty: the label comes from
              SegmentedPropertyTypeCodeSequence CodeMeaning): a disc of 128s on MR_small inside a
              ring of 127s (below the threshold 2 * value >= 255), segment number in the shared group.
  two         BINARY, 2 segments, 2 frames on odd.dcm: frame 1 segment 1 "kidney" rectangle,
              frame 2 segment 2 "cyst" disc (frame 2 starts at bit 143).
  multiframe  BINARY, 1 segment "tumour", 3 frames on emri_small frames 2 and 5 (ReferencedFrameNumber),
              the third frame empty.
  bad-uid     like binary, plus a frame on an unknown SOP Instance UID.
  bad-size    BINARY 64 x 64 referencing CT_small (128 x 128).
  truncated   like binary with half the pixel data.
  no-segments like binary without SegmentSequence.
  huge-frames like binary with NumberOfFrames 999999999999 (the pixel data is far too short).
"""

import json
import os
import sys

import numpy as np
import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

SEG_CLASS = "1.2.840.10008.5.1.4.1.1.66.4"


def rectangle(rows, columns, y0, x0, y1, x1):
    mask = np.zeros((rows, columns), dtype=np.uint8)
    mask[y0:y1, x0:x1] = 1
    return mask


def disc(rows, columns, cy, cx, radius):
    ys, xs = np.mgrid[0:rows, 0:columns]
    return ((ys - cy) ** 2 + (xs - cx) ** 2 <= radius * radius).astype(np.uint8)


def file_meta(sop_class, sop_uid):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return meta


def write_source(path):
    """A 13 x 11 CT-like source image (odd size: its SEG frames are not byte-aligned)."""
    ds = Dataset()
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta = file_meta(ds.SOPClassUID, ds.SOPInstanceUID)
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "CT"
    ds.Rows, ds.Columns = 13, 11
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = (np.arange(13 * 11, dtype=np.uint8)).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return ds.SOPInstanceUID


def segment(number, label, meaning="Organ"):
    item = Dataset()
    item.SegmentNumber = number
    item.SegmentLabel = label
    item.SegmentAlgorithmType = "MANUAL"
    code = Dataset()
    code.CodeValue, code.CodingSchemeDesignator, code.CodeMeaning = "T-D0050", "SRT", meaning
    item.SegmentedPropertyTypeCodeSequence = Sequence([code])
    category = Dataset()
    category.CodeValue, category.CodingSchemeDesignator, category.CodeMeaning = "T-D0050", "SRT", "Tissue"
    item.SegmentedPropertyCategoryCodeSequence = Sequence([category])
    return item


def frame_group(segment_number, sop_uid, sop_class, frame_number=None):
    group = Dataset()
    if segment_number is not None:
        ident = Dataset()
        ident.ReferencedSegmentNumber = segment_number
        group.SegmentIdentificationSequence = Sequence([ident])
    source = Dataset()
    source.ReferencedSOPClassUID = sop_class
    source.ReferencedSOPInstanceUID = sop_uid
    if frame_number is not None:
        source.ReferencedFrameNumber = frame_number
    derivation = Dataset()
    derivation.SourceImageSequence = Sequence([source])
    group.DerivationImageSequence = Sequence([derivation])
    return group


def write_seg(path, rows, columns, frames, segments, kind="BINARY", shared_segment=None, maximum=255,
              cut=None, drop_segments=False, number_of_frames=None):
    """frames: [(segment number or None, sop uid, sop class, frame number or None, values)]."""
    ds = Dataset()
    ds.SOPClassUID = SEG_CLASS
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta = file_meta(SEG_CLASS, ds.SOPInstanceUID)
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "SEG"
    ds.SegmentationType = kind
    if kind == "FRACTIONAL":
        ds.SegmentationFractionalType = "PROBABILITY"
        ds.MaximumFractionalValue = maximum
    ds.Rows, ds.Columns = rows, columns
    ds.NumberOfFrames = number_of_frames or len(frames)
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    bits = 1 if kind == "BINARY" else 8
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, bits, bits - 1, 0
    ds.LossyImageCompression = "00"
    if not drop_segments:
        ds.SegmentSequence = Sequence(segments)
    shared = Dataset()
    if shared_segment is not None:
        ident = Dataset()
        ident.ReferencedSegmentNumber = shared_segment
        shared.SegmentIdentificationSequence = Sequence([ident])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    ds.PerFrameFunctionalGroupsSequence = Sequence(
        [frame_group(number, uid, cls, frame) for number, uid, cls, frame, _ in frames])
    stack = np.stack([values for *_, values in frames]).astype(np.uint8)
    if kind == "BINARY":
        data = np.packbits(stack.reshape(-1), bitorder="little").tobytes()
    else:
        data = stack.tobytes()
    if cut is not None:
        data = data[:cut]
    if len(data) % 2:
        data += b"\0"
    ds.PixelData = data
    ds["PixelData"].VR = "OB"
    ds.save_as(path, enforce_file_format=True)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    sources = {name: get_testdata_file(name) for name in ("CT_small.dcm", "MR_small.dcm", "emri_small.dcm")}
    sources["odd.dcm"] = os.path.join(out, "odd.dcm")
    odd_uid = write_source(sources["odd.dcm"])
    info = {}
    for name, path in sources.items():
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        info[name] = (str(ds.SOPInstanceUID), str(ds.SOPClassUID), int(ds.Rows), int(ds.Columns))
    assert info["odd.dcm"][0] == odd_uid
    cases = {}
    counter = [0]

    def region(label, source, frame, mask):
        counter[0] += 1
        mask_path = os.path.join(out, f"mask{counter[0]}.raw")
        mask.astype(np.uint8).tofile(mask_path)
        ys, xs = np.nonzero(mask)
        return {"label": label, "sop": info[source][0], "frame": frame, "mask": mask_path,
                "box": [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1], "area": int(mask.sum())}

    def ref(source, frame=None):
        uid, cls, _, _ = info[source]
        return uid, cls, frame

    ct_rect = rectangle(128, 128, 20, 30, 50, 80)

    path = os.path.join(out, "binary.dcm")
    write_seg(path, 128, 128, [(1, *ref("CT_small.dcm"), ct_rect)], [segment(1, "liver")])
    cases["binary"] = {"file": path, "regions": [region("liver", "CT_small.dcm", None, ct_rect)]}

    mr_disc = disc(64, 64, 28, 33, 12)
    ring = disc(64, 64, 28, 33, 15)
    values = np.where(mr_disc == 1, 128, np.where(ring == 1, 127, 0))
    path = os.path.join(out, "fractional.dcm")
    item = segment(1, "", meaning="lesion")
    write_seg(path, 64, 64, [(None, *ref("MR_small.dcm"), values)], [item], kind="FRACTIONAL", shared_segment=1)
    cases["fractional"] = {"file": path, "regions": [region("lesion", "MR_small.dcm", None, mr_disc)]}

    odd_rect = rectangle(13, 11, 2, 1, 9, 6)
    odd_disc = disc(13, 11, 7, 6, 4)
    path = os.path.join(out, "two.dcm")
    write_seg(path, 13, 11, [(1, *ref("odd.dcm"), odd_rect), (2, *ref("odd.dcm"), odd_disc)],
              [segment(1, "kidney"), segment(2, "cyst")])
    cases["two"] = {"file": path, "regions": [region("kidney", "odd.dcm", None, odd_rect),
                                             region("cyst", "odd.dcm", None, odd_disc)]}

    e_rect = rectangle(64, 64, 5, 7, 20, 40)
    e_disc = disc(64, 64, 40, 30, 9)
    empty = np.zeros((64, 64), dtype=np.uint8)
    path = os.path.join(out, "multiframe.dcm")
    write_seg(path, 64, 64, [(1, *ref("emri_small.dcm", 2), e_rect), (1, *ref("emri_small.dcm", 5), e_disc),
                             (1, *ref("emri_small.dcm", 7), empty)], [segment(1, "tumour")])
    cases["multiframe"] = {"file": path, "regions": [region("tumour", "emri_small.dcm", 2, e_rect),
                                                    region("tumour", "emri_small.dcm", 5, e_disc)]}

    path = os.path.join(out, "bad-uid.dcm")
    unknown = generate_uid()
    write_seg(path, 128, 128, [(1, *ref("CT_small.dcm"), ct_rect), (1, unknown, info["CT_small.dcm"][1], None, ct_rect)],
              [segment(1, "liver")])
    cases["bad-uid"] = {"file": path, "unknown": unknown,
                        "regions": [region("liver", "CT_small.dcm", None, ct_rect)]}

    path = os.path.join(out, "bad-size.dcm")
    write_seg(path, 64, 64, [(1, *ref("CT_small.dcm"), mr_disc)], [segment(1, "liver")])
    cases["bad-size"] = {"file": path, "regions": []}

    path = os.path.join(out, "truncated.dcm")
    write_seg(path, 128, 128, [(1, *ref("CT_small.dcm"), ct_rect)], [segment(1, "liver")], cut=1000)
    cases["truncated"] = {"file": path, "regions": []}

    path = os.path.join(out, "no-segments.dcm")
    write_seg(path, 128, 128, [(1, *ref("CT_small.dcm"), ct_rect)], [segment(1, "liver")], drop_segments=True)
    cases["no-segments"] = {"file": path, "regions": []}

    path = os.path.join(out, "huge-frames.dcm")
    write_seg(path, 128, 128, [(1, *ref("CT_small.dcm"), ct_rect)], [segment(1, "liver")],
              number_of_frames=999999999999)
    cases["huge-frames"] = {"file": path, "regions": []}

    # pydicom reads back what was written: the BINARY frames unpack to the masks.
    check = pydicom.dcmread(cases["two"]["file"]).pixel_array
    assert (check[0] == odd_rect).all() and (check[1] == odd_disc).all()

    print(json.dumps({"sources": sources, "cases": cases}))


if __name__ == "__main__":
    main()
