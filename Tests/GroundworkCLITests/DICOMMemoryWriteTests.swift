import Foundation
import Testing

/// De-identified DICOM copies are written by DCMTK into memory: an import works where no
/// temporary file can be made ($TMPDIR names a regular file), and leaves nothing there.
@Suite(
    "DICOM writes in memory",
    .enabled(if: pythonAvailable, "set GROUNDWORK_PYTHON to a python3 with pydicom-data (tools/test does)"))
struct DICOMMemoryWriteTests {
    @Test func deidentifiedCopiesNeedNoTemporaryFile() throws {
        let folder = TemporaryFolder()
        let project = folder.path + "/proj"
        #expect(try CLI.run(["init", project]).status == 0)
        let python = Process()
        python.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"]!)
        python.arguments = ["-c", "from pydicom.data import get_testdata_file\nprint(get_testdata_file('CT_small.dcm'), end='')"]
        let out = Pipe()
        python.standardOutput = out
        try python.run()
        let file = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        python.waitUntilExit()
        // A regular file as $TMPDIR: no temporary file can be created under it.
        let notAFolder = folder.path + "/not-a-folder"
        #expect(FileManager.default.createFile(atPath: notAFolder, contents: Data("x".utf8)))
        let process = CLI.start(["import", "images", file, "--deidentify", "--json", "--project", project])
        var environment = ProcessInfo.processInfo.environment
        environment["TMPDIR"] = notAFolder
        process.environment = environment
        let stdout = Pipe()
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        let report = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(report)")
        #expect(try CLI.json(report)["imported"] as? Int == 1)
        #expect(try String(contentsOfFile: notAFolder, encoding: .utf8) == "x")
    }
}
