import Foundation
import GroundworkImaging
@_exported import GroundworkTestSupport
import Testing

/// Runs the built `groundwork` executable, as a user or a script would.
enum CLI {
    /// The built executable: `GROUNDWORK_BIN`, or the sibling of the test bundle in the build folder.
    static let executable: URL = {
        if let path = ProcessInfo.processInfo.environment["GROUNDWORK_BIN"] { return URL(fileURLWithPath: path) }
        var candidates: [URL] = []
        let argv0 = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL
        var folder = argv0.deletingLastPathComponent()
        for _ in 0..<4 {
            candidates.append(folder.appendingPathComponent("groundwork"))
            folder = folder.deletingLastPathComponent()
        }
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("groundwork"))
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/groundwork"))
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates.last!
    }()

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs the tool to completion.
    @discardableResult
    static func run(_ arguments: [String], in folder: String? = nil) throws -> Result {
        let process = start(arguments, in: folder)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Read both pipes while the process runs, so a large output never blocks it.
        nonisolated(unsafe) var outData = Data()
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            outData = out.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
            stderr: String(decoding: errData, as: UTF8.self))
    }

    /// A configured, not yet started process.
    static func start(_ arguments: [String], in folder: String? = nil) -> Process {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
        process.standardInput = FileHandle.nullDevice
        return process
    }

    /// Parses a JSON object from stdout.
    static func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
    }
}

/// A gray PNG whose bytes depend on the seed.
func samplePNG(width: Int = 32, height: Int = 32, seed: Int) -> [UInt8] {
    var samples = [UInt8](repeating: 0, count: width * height * 2)
    var state = UInt64(seed &+ 1) &* 0x9E37_79B9_7F4A_7C15
    for i in 0..<samples.count {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        samples[i] = UInt8(truncatingIfNeeded: state >> 56)
    }
    return try! PNGEncoder.encode(PixelBuffer(width: width, height: height, channels: 1, bitDepth: 16, samples: samples))
}

/// The repository's root folder.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// True when the Python cross-checks can run (tools/test sets GROUNDWORK_PYTHON).
let pythonAvailable = ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"] != nil

/// Validates a JSON document against `schemas/<schema>.schema.json` with an independent validator
/// (Python's `jsonschema`, through `tools/validate-json`); records an issue naming every error.
func validateAgainstSchema(_ schema: String, _ document: String, lines: Bool = false) throws {
    let folder = TemporaryFolder()
    let file = folder.write("doc.json", Array(document.utf8))
    let process = Process()
    process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"]!)
    process.arguments =
        [repositoryRoot.appendingPathComponent("tools/validate-json").path] + (lines ? ["--lines"] : []) + [schema, file]
    let err = Pipe()
    process.standardError = err
    try process.run()
    let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "\(schema): \(message)")
}
