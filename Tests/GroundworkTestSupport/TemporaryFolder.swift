import Foundation

/// A fresh folder under the system's temporary directory, removed with everything in it when the
/// value is dropped: the scratch space of every test target. The folder sits alone in a private
/// container, so what lies beside it (where `check` looks for interrupted outputs, where staging
/// folders go) is never another process's leftover in the shared temporary directory.
public final class TemporaryFolder: @unchecked Sendable {
    /// The folder's absolute path.
    public let path: String
    /// The private container the folder sits in (removed with it).
    private let container: String
    /// The folder as a file URL.
    public var url: URL { URL(fileURLWithPath: path) }

    /// Makes the folder.
    public init() {
        container = FileManager.default.temporaryDirectory.path + "/groundwork-test-\(UUID().uuidString)"
        path = container + "/work"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: container) }

    /// Writes bytes to `name` under the folder (parent folders made) and returns its absolute path.
    @discardableResult
    public func write(_ name: String, _ bytes: [UInt8]) -> String {
        let file = "\(path)/\(name)"
        try! FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try! Data(bytes).write(to: URL(fileURLWithPath: file))
        return file
    }

    /// Writes text as UTF-8 to `name` under the folder and returns its absolute path.
    @discardableResult
    public func write(_ name: String, _ text: String) -> String { write(name, Array(text.utf8)) }

    /// Writes text as UTF-8 to `name` under the folder and returns its absolute path.
    @discardableResult
    public func write(_ name: String, text: String) -> String { write(name, Array(text.utf8)) }

    /// The UTF-8 text of `name` under the folder, or "" when it cannot be read.
    public func read(_ name: String) -> String {
        (try? String(contentsOfFile: "\(path)/\(name)", encoding: .utf8)) ?? ""
    }
}

/// Runs Python code (the cross-check venv's interpreter, `GROUNDWORK_PYTHON`) with arguments, with
/// extra environment variables; returns its exit status and its output (stdout and stderr).
public func runPython(_ script: String, _ arguments: [String], environment: [String: String] = [:]) throws -> (
    status: Int32, output: String
) {
    try runPythonProcess(["-c", script] + arguments, environment: environment)
}

/// Runs a Python script file of the repository (e.g. `tools/…`) with arguments, like ``runPython(_:_:environment:)``.
public func runPythonFile(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    try runPythonProcess([path] + arguments, environment: [:])
}

private func runPythonProcess(_ arguments: [String], environment: [String: String]) throws -> (
    status: Int32, output: String
) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"] ?? "python3")
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}
