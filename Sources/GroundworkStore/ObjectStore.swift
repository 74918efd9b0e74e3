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
/// Writes are atomic: the bytes go to an unnamed file (Linux `O_TMPFILE`) in the object's folder
/// that is linked into place once complete, or, where the file system lacks that, to a `.tmp-…`
/// file in the same folder that is renamed into place. A killed process never leaves a partial
/// object under a hash name. Objects are written read-only.
public struct ObjectStore: Sendable {
    /// The store's folder (absolute).
    public let root: String

    /// The prefix of temporary names (only used where `O_TMPFILE` is not available).
    public static let temporaryPrefix = ".tmp-"

    public init(root: String) { self.root = root }

    /// Where the object with this hash lives (whether or not it exists).
    public func path(for sha256: String) -> String {
        let prefix = sha256.prefix(2)
        let rest = sha256.dropFirst(2)
        return "\(root)/\(prefix)/\(rest)"
    }

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
        let folder = try ensureFolder(for: sha256)
        // An unnamed file in the object's own folder, linked in when complete.
        var fd = open(folder, O_TMPFILE_WRONLY, 0o444)
        if fd < 0 && errno == ENOENT {
            // The folder was empty and removed meanwhile (an undone import in another process).
            _ = try ensureFolder(for: sha256)
            fd = open(folder, O_TMPFILE_WRONLY, 0o444)
        }
        if fd >= 0 {
            defer { close(fd) }
            try writeAll(fd, bytes, path: target)
            if linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, target, AT_SYMLINK_FOLLOW) == 0 { return true }
            if errno == EEXIST { return false }
            throw FileIOError(path: target, operation: "link into place", code: errno)
        }
        let tmp = "\(folder)/\(Self.temporaryPrefix)\(getpid())-\(UInt64.random(in: 0...UInt64.max))"
        try FileIO.writeNew(tmp, bytes: bytes, mode: 0o444)
        let existed = FileIO.kind(target).isRegular
        guard rename(tmp, target) == 0 else {
            let code = errno
            unlink(tmp)
            throw FileIOError(path: target, operation: "move into place", code: code)
        }
        return !existed
    }

    /// Hard-links an existing file in as the object for this hash (`--link`). Falls back to a
    /// copy when the file is on another file system. Returns whether the object is new and
    /// whether it was linked (true) or copied (false).
    public func link(from source: String, bytes: UnsafeRawBufferPointer, sha256: String) throws(FileIOError) -> (
        created: Bool, linked: Bool
    ) {
        let target = path(for: sha256)
        if FileIO.kind(target).isRegular { return (false, true) }
        _ = try ensureFolder(for: sha256)
        // link(2) is atomic and never replaces: the name appears complete or not at all.
        if Glibc.link(source, target) == 0 { return (true, true) }
        let code = errno
        if code == EEXIST { return (false, true) }
        guard code == EXDEV || code == EPERM || code == EMLINK else {
            throw FileIOError(path: source, operation: "hard-link into the project", code: code)
        }
        return (try put(bytes, sha256: sha256), false)
    }

    /// Removes an object (used to undo an import that did not commit, and by `check --fix`).
    public func remove(_ sha256: String) {
        unlink(path(for: sha256))
    }

    /// The names of the fan-out folders (`ab`) that exist now. An operation that may be undone
    /// lists them first and, when undone, passes them to ``removeEmptyFolders(except:)``.
    public func folders() -> Set<String> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return Set(names.filter { FileIO.kind("\(root)/\($0)").isDirectory })
    }

    /// Removes the empty fan-out folders that are not among `existing` (those made since it was
    /// listed), so that an undone operation leaves the store as it found it. A folder that holds
    /// anything is kept.
    public func removeEmptyFolders(except existing: Set<String>) {
        for name in folders().subtracting(existing).sorted() {
            let folder = "\(root)/\(name)"
            if (try? FileManager.default.contentsOfDirectory(atPath: folder))?.isEmpty == true { rmdir(folder) }
        }
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

    /// The lowercase hex SHA-256 of bytes.
    public static func sha256(_ bytes: UnsafeRawBufferPointer) -> String {
        hex(SHA256.hash(data: bytes))
    }

    /// The lowercase hex SHA-256 of a file's bytes, streamed in 1 MiB blocks.
    public static func sha256(ofFile path: String) throws(FileIOError) -> (sha256: String, size: Int) {
        let fd = try FileIO.openRegularFile(path)
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

    private func ensureFolder(for sha256: String) throws(FileIOError) -> String {
        let folder = "\(root)/\(sha256.prefix(2))"
        if mkdir(folder, 0o755) != 0 && errno != EEXIST {
            throw FileIOError(path: folder, operation: "create directory", code: errno)
        }
        return folder
    }

    private func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(FileIOError) {
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError(path: path, operation: "write", code: errno)
            }
            done += n
        }
    }
}

/// `open(2)` flags for an unnamed temporary file in a folder (Linux `O_TMPFILE | O_WRONLY`).
private let O_TMPFILE_WRONLY: Int32 = 0o20_000_000 | O_DIRECTORY | O_WRONLY | O_CLOEXEC

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
