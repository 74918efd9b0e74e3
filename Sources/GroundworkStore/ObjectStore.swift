import Crypto
import Foundation
import GroundworkCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A content-addressed file store: each file lives at `objects/ab/cdef…`, named by the
/// lowercase hex SHA-256 of its bytes.
///
/// Writes are atomic (a temporary file in `objects/tmp/` is renamed into place), so a killed
/// process never leaves a partial object under a hash name. Objects are written read-only.
public struct ObjectStore: Sendable {
    /// The store's folder (absolute).
    public let root: String

    public init(root: String) { self.root = root }

    /// Where the object with this hash lives (whether or not it exists).
    public func path(for sha256: String) -> String {
        let prefix = sha256.prefix(2)
        let rest = sha256.dropFirst(2)
        return "\(root)/\(prefix)/\(rest)"
    }

    /// The folder for temporary files that are renamed into place.
    public var temporaryFolder: String { "\(root)/tmp" }

    /// Whether an object with this hash exists.
    public func contains(_ sha256: String) -> Bool {
        FileIO.kind(path(for: sha256)).isRegular
    }

    /// Stores bytes under their hash (which the caller has computed). Returns true when the
    /// object is new, false when it was already there.
    @discardableResult
    public func put(_ bytes: UnsafeRawBufferPointer, sha256: String) throws(FileIOError) -> Bool {
        let target = path(for: sha256)
        if FileIO.kind(target).isRegular { return false }
        try ensureFolders(for: sha256)
        let tmp = temporaryName()
        try FileIO.writeNew(tmp, bytes: bytes, mode: 0o444)
        return try moveIntoPlace(tmp, target: target)
    }

    /// Stores bytes under their hash (see ``put(_:sha256:)-(UnsafeRawBufferPointer,_)``).
    @discardableResult
    public func put(_ bytes: [UInt8], sha256: String) throws(FileIOError) -> Bool {
        var result: Result<Bool, FileIOError> = .success(false)
        bytes.withUnsafeBytes { raw in
            do throws(FileIOError) { result = .success(try put(raw, sha256: sha256)) } catch { result = .failure(error) }
        }
        return try result.get()
    }

    /// Hard-links a file in (see ``link(from:bytes:sha256:)-(_,UnsafeRawBufferPointer,_)``).
    public func link(from source: String, bytes: [UInt8], sha256: String) throws(FileIOError) -> (created: Bool, linked: Bool) {
        var result: Result<(created: Bool, linked: Bool), FileIOError> = .success((false, false))
        bytes.withUnsafeBytes { raw in
            do throws(FileIOError) { result = .success(try link(from: source, bytes: raw, sha256: sha256)) } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }

    /// Hard-links an existing file in as the object for this hash (`--link`). Falls back to a
    /// copy when the file is on another file system. Returns whether the object is new and
    /// whether it was linked (true) or copied (false).
    public func link(from source: String, bytes: UnsafeRawBufferPointer, sha256: String) throws(FileIOError) -> (created: Bool, linked: Bool) {
        let target = path(for: sha256)
        if FileIO.kind(target).isRegular { return (false, true) }
        try ensureFolders(for: sha256)
        let tmp = temporaryName()
        if Glibc.link(source, tmp) == 0 {
            return (try moveIntoPlace(tmp, target: target), true)
        }
        let code = errno
        guard code == EXDEV || code == EPERM || code == EMLINK else {
            throw FileIOError(path: source, operation: "hard-link into the project", code: code)
        }
        try FileIO.writeNew(tmp, bytes: bytes, mode: 0o444)
        return (try moveIntoPlace(tmp, target: target), false)
    }

    /// Removes an object (used to undo an import that did not commit, and by `check --fix`).
    public func remove(_ sha256: String) {
        unlink(path(for: sha256))
    }

    /// The lowercase hex SHA-256 of bytes.
    public static func sha256(_ bytes: UnsafeRawBufferPointer) -> String {
        hex(SHA256.hash(data: bytes))
    }

    /// The lowercase hex SHA-256 of a file's bytes, streamed in 1 MiB blocks.
    public static func sha256(ofFile path: String) throws(FileIOError) -> (sha256: String, size: Int) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileIOError(path: path, operation: "open", code: errno) }
        defer { close(fd) }
        var hasher = SHA256()
        var size = 0
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError(path: path, operation: "read", code: errno)
            }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            size += n
        }
        return (hex(hasher.finalize()), size)
    }

    /// Every object file in the store, as (hash, path), in hash order; and every other file
    /// found under the store (leftover temporaries, foreign files).
    public func enumerate() -> (objects: [(sha256: String, path: String)], strays: [String]) {
        var objects: [(String, String)] = []
        var strays: [String] = []
        let fm = FileManager.default
        let top = (try? fm.contentsOfDirectory(atPath: root))?.sorted() ?? []
        for prefix in top {
            let folder = "\(root)/\(prefix)"
            guard FileIO.kind(folder).isDirectory else {
                strays.append(folder)
                continue
            }
            let entries = (try? fm.contentsOfDirectory(atPath: folder))?.sorted() ?? []
            let isHashFolder = prefix.count == 2 && prefix.allSatisfy(\.isLowercaseHexDigit)
            for name in entries {
                let sha = prefix + name
                if isHashFolder && sha.count == 64 && name.allSatisfy(\.isLowercaseHexDigit) {
                    objects.append((sha, "\(folder)/\(name)"))
                } else {
                    strays.append("\(folder)/\(name)")
                }
            }
        }
        return (objects, strays)
    }

    private func ensureFolders(for sha256: String) throws(FileIOError) {
        let folder = "\(root)/\(sha256.prefix(2))"
        if !FileIO.kind(folder).isDirectory {
            if mkdir(folder, 0o755) != 0 && errno != EEXIST {
                throw FileIOError(path: folder, operation: "create directory", code: errno)
            }
        }
        if !FileIO.kind(temporaryFolder).isDirectory {
            if mkdir(temporaryFolder, 0o755) != 0 && errno != EEXIST {
                throw FileIOError(path: temporaryFolder, operation: "create directory", code: errno)
            }
        }
    }

    private func temporaryName() -> String {
        "\(temporaryFolder)/\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
    }

    private func moveIntoPlace(_ tmp: String, target: String) throws(FileIOError) -> Bool {
        // Another writer may have placed the same bytes meanwhile: that is fine, same content.
        let existed = FileIO.kind(target).isRegular
        guard rename(tmp, target) == 0 else {
            let code = errno
            unlink(tmp)
            throw FileIOError(path: target, operation: "move into place", code: code)
        }
        return !existed
    }
}

extension Character {
    fileprivate var isLowercaseHexDigit: Bool {
        ("0"..."9").contains(self) || ("a"..."f").contains(self)
    }
}

private let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

/// Lowercase hex of a digest's bytes.
func hex(_ digest: some Sequence<UInt8>) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(64)
    for byte in digest {
        out.append(hexDigits[Int(byte >> 4)])
        out.append(hexDigits[Int(byte & 0x0F)])
    }
    return String(decoding: out, as: UTF8.self)
}
