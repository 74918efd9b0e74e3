import Crypto
import Foundation
import GroundworkCore

/// One file of an export, as its manifest lists it.
public struct ManifestEntry: Codable, Sendable, Equatable {
    /// The path relative to the export folder, with `/` separators.
    public var path: String
    /// Lowercase hex SHA-256 of the file's bytes.
    public var sha256: String
    public var size: Int
    /// Lowercase hex MD5 of the file's bytes, for the files whose format's readers check one
    /// (VLMEvalKit's TSV); absent otherwise. Not part of the root hash.
    public var md5: String?

    /// A file's MD5, as reported.
    public struct Checksum: Codable, Sendable, Equatable {
        public var path: String
        public var md5: String

        /// A file's MD5.
        public init(path: String, md5: String) {
            self.path = path
            self.md5 = md5
        }
    }

    /// Describes one file.
    public init(path: String, sha256: String, size: Int, md5: String? = nil) {
        self.path = path
        self.sha256 = sha256
        self.size = size
        self.md5 = md5
    }

    /// The root hash over entries: SHA-256 of the lines `<sha256>  <size>  <path>\n`, one an entry,
    /// sorted by path (byte order). `manifest.json` itself is not an entry.
    public static func rootHash(_ entries: [ManifestEntry]) -> String {
        var hasher = SHA256()
        for entry in entries.sorted(by: { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }) {
            hasher.update(data: Array("\(entry.sha256)  \(entry.size)  \(entry.path)\n".utf8))
        }
        return hex(hasher.finalize())
    }

    static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// The folder an export is written into: a ``StagedFolder`` (a hidden sibling of the target,
/// published by one rename at the end, so that a failure or a kill never leaves a half export at
/// the target). It records every file written (path, SHA-256, size) for the manifest.
public final class ExportFolder: @unchecked Sendable {
    private let staged: StagedFolder
    /// The temporary folder being written.
    public var root: String { staged.root }
    /// The target the export is published to.
    public var target: String { staged.target }
    /// Leftovers of killed exports removed beside the target before this one started.
    public var removedLeftovers: [String] { staged.removedLeftovers }
    private let lock = NSLock()
    private var entries: [String: ManifestEntry] = [:]

    /// The prefix of temporary export folders (a leftover of a killed export is removed by the next
    /// export beside it, and reported by `groundwork check`).
    public static let temporaryPrefix = StagedFolder.prefix + GroundworkFolderKind.export.rawValue + "-"

    /// Creates the staging folder next to `target`, after ``OutputGuard`` has checked it: never a
    /// project (`project`, or any other) or a folder inside one or inside another export; a
    /// non-empty target only with `force`, and only an export Groundwork wrote.
    init(target: String, force: Bool, project: String?) throws {
        staged = try StagedFolder(target: target, kind: .export, force: force, project: project)
    }

    /// Writes a whole file and records it.
    public func write(_ path: String, bytes: [UInt8]) throws {
        try prepare(path)
        try bytes.withUnsafeBytes { try FileIO.writeNew("\(root)/\(path)", bytes: $0) }
        record(ManifestEntry(path: path, sha256: ManifestEntry.hex(SHA256.hash(data: bytes)), size: bytes.count))
    }

    /// Writes a text file (UTF-8) and records it.
    public func write(_ path: String, text: String) throws { try write(path, bytes: Array(text.utf8)) }

    /// Opens a file for streaming writes; close it to record it (with its MD5 too when `md5`).
    public func stream(_ path: String, md5: Bool = false) throws -> ExportStream {
        try prepare(path)
        return try ExportStream(folder: self, path: path, md5: md5)
    }

    /// Hard-links a file into the folder (falls back to a copy across file systems) and records it
    /// with the hash the caller vouches for (the object store's name for it).
    func link(_ path: String, from source: String, sha256: String, size: Int) throws {
        try prepare(path)
        if Foundation.link(source, "\(root)/\(path)") != 0 {
            let bytes = try FileIO.readAll(source)
            try write(path, bytes: bytes)
            return
        }
        record(ManifestEntry(path: path, sha256: sha256, size: size))
    }

    func record(_ entry: ManifestEntry) {
        lock.lock()
        entries[entry.path] = entry
        lock.unlock()
    }

    /// The files written so far, by path.
    public var manifestEntries: [ManifestEntry] {
        lock.lock()
        defer { lock.unlock() }
        return entries.values.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }

    private func prepare(_ path: String) throws {
        guard !path.isEmpty, !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
            throw ExportError.badPath(path)
        }
        let directory = ("\(root)/\(path)" as NSString).deletingLastPathComponent
        try FileIO.makeDirectories(directory)
    }

    /// Moves the finished folder to the target (one rename).
    func publish() throws { try staged.publish() }

    /// Removes the temporary folder (after a failure).
    func discard() { staged.discard() }
}

/// A file being written into an export: buffered, hashed as it goes.
public final class ExportStream {
    private let folder: ExportFolder
    private let path: String
    private let handle: FileHandle
    private var hasher = SHA256()
    private var md5: Insecure.MD5?
    private var buffer: [UInt8] = []
    private var size = 0

    init(folder: ExportFolder, path: String, md5: Bool) throws {
        self.folder = folder
        self.path = path
        self.md5 = md5 ? Insecure.MD5() : nil
        let full = "\(folder.root)/\(path)"
        guard FileManager.default.createFile(atPath: full, contents: nil) else {
            throw FileIOError(path: full, operation: "create", code: errno)
        }
        handle = try FileHandle(forWritingTo: URL(fileURLWithPath: full))
        buffer.reserveCapacity(1 << 20)
    }

    /// Appends text (UTF-8).
    public func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 20 { try flush() }
    }

    /// Appends bytes.
    public func write(bytes: some Sequence<UInt8>) throws {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        hasher.update(data: buffer)
        md5?.update(data: buffer)
        try handle.write(contentsOf: buffer)
        size += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes, closes and records the file.
    public func close() throws {
        try flush()
        try handle.close()
        folder.record(
            ManifestEntry(
                path: path, sha256: ManifestEntry.hex(hasher.finalize()), size: size,
                md5: md5.map { ManifestEntry.hex($0.finalize()) }))
    }

    /// The number of bytes written so far.
    public var bytesWritten: Int { size + buffer.count }
}

/// Why an export could not be written.
public enum ExportError: Error, Sendable, CustomStringConvertible {
    case badPath(String)
    case corruptObject(image: String, path: String)
    case missingObject(image: String, path: String)
    /// The format embeds or links pixels and some images have none to give: restricted sources
    /// (by reference only) in a `copy`/`link` export.
    case needsPixels(format: String, restricted: Int)
    /// The release holds something the format cannot express.
    case formatCannotHold(format: String, reason: String)
    /// `--keep-paths` asked for a release with restricted sources.
    case keepPathsRestricted(sources: [String])

    public var description: String {
        switch self {
        case .badPath(let path): "internal: export path '\(path)' escapes the export folder"
        case .corruptObject(let image, let path):
            "image \(image): its object \(path) does not match its SHA-256 (run groundwork check)"
        case .missingObject(let image, let path): "image \(image): its object \(path) is missing (run groundwork check)"
        case .formatCannotHold(let format, let reason): "a \(format) export cannot hold this release: \(reason)"
        case .keepPathsRestricted(let sources):
            "--keep-paths is refused: the release holds images of restricted sources (\(sources.joined(separator: ", "))), whose paths never leave the project"
        case .needsPixels(let format, let restricted):
            "\(restricted) released image(s) come from restricted sources (by reference only, no pixels), and a \(format) export with pixels cannot leave them out: export with --images none (every image by reference), or cut a release of unrestricted sources only (--where source=NAME)"
        }
    }
}
