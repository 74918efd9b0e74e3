import ArgumentParser
import GroundworkImaging
import GroundworkStore

/// `groundwork render IMAGE... --window …`
struct RenderCommand: GroundworkCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Re-render DICOM images from their stored DICOM files with another window or bit depth.",
        discussion: Help.reflow(
            """
            The image keeps its id (and its regions, questions, labels and split); its PNG, render record,
            bit depth and channels are replaced, and the render record names the new window. Releases made
            before keep what they released. All or nothing: an image that was not imported from DICOM, or
            whose new rendering is the same PNG as another image's, is an error and nothing changes.
            """))

    @Argument(help: "Image ids (see `groundwork images list`).")
    var images: [Int64]

    @OptionGroup var dicom: DICOMRenderArguments
    @OptionGroup var projectOptions: ProjectOptions
    @OptionGroup var output: JSONOption

    func execute() throws {
        let project = try projectOptions.openForWriting()
        let options = try dicom.renderOptions()
        let report = try Output.attempt(json: output.json) {
            try DICOMRerender.run(project, imageIds: images, options: options)
        }
        try Output.report(report, json: output.json) {
            for image in report.images {
                let what = image.changed ? "re-rendered" : "unchanged (same pixels)"
                print("image \(image.id): \(what), \(image.previousSha256.prefix(12)) -> \(image.sha256.prefix(12))")
            }
        }
    }
}
