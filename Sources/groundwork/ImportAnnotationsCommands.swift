import ArgumentParser

/// `groundwork import regions FILE`
struct ImportRegionsCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "regions",
        abstract:
            "Import expert regions (boxes, polygons, masks) from COCO, Pascal VOC, YOLO, Label Studio, CVAT, CSV, SLAKE, DICOM overlays or DICOM SEG.",
        discussion: Help.reflow(
            """
            Every format's convention is converted at the reader to Groundwork's one frame: 0-based, continuous,
            half-open x0 y0 x1 y1 in the displayed image's pixels (COCO [x,y,w,h]; VOC 1-based inclusive corners;
            YOLO normalised centre and size; Label Studio percent; CVAT corners). A DICOM file (or a folder of them)
            gives one mask region per overlay plane (60xx,3000) on the image imported from that file, labelled
            --overlay-label (default overlay). A DICOM SEG file (--format dicom-seg, detected by its SOP class) gives
            one mask region per segment and referenced frame, on the images whose SOP Instance UID (and frame) it
            names, labelled by SegmentLabel.

            Entries are matched to images by SHA-256, path, then file name. The import is all or nothing: any
            error (an unknown image or label, a box outside its image, a malformed entry) means nothing is
            written, and every problem is listed with the file and the place (line, JSON pointer, XML element).
            Importing the same file again adds nothing.
            """))

    @OptionGroup var arguments: AnnotationImportArguments
    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws { try AnnotationImportRunner.run(arguments, project: projectOptions, json: output.json) }
}

/// `groundwork import vqa FILE`
struct ImportVQACommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "vqa",
        abstract: "Import VQA items (with their target regions) from VGMED JSONL, SLAKE or COCO (Groundwork's vqa key).",
        discussion: Help.reflow(
            """
            VGMED JSONL mixes [x,y,w,h] and [x0,y0,x1,y1] boxes upstream: each box is read in the only convention
            under which it lies inside its image; one that fits both needs --box-format. A question whose answer
            is "no", or that has no target region, is not groundable and is never scored against a region.
            """))

    @OptionGroup var arguments: AnnotationImportArguments
    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws { try AnnotationImportRunner.run(arguments, project: projectOptions, json: output.json) }
}
