import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed file-system operation, with the path and the system's reason.
public struct FileIOError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var operation: String
    public var code: Int32

    public init(path: String, operation: String, code: Int32) {
        self.path = path
        self.operation = operation
        self.code = code
    }

    public var reason: String { String(cString: strerror(code)) }
    public var description: String { "\(path): cannot \(operation): \(reason)" }
}

/// Small, allocation-conscious POSIX file helpers used on hot import paths.
public enum FileIO {
    /// Reads a whole regular file into memory.
    /// - Parameter limit: refuse files larger than this many bytes (reported as EFBIG).
    public static func readAll(_ path: String, limit: Int = Int.max) throws(FileIOError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileIOError(path: path, operation: "open", code: errno) }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileIOError(path: path, operation: "stat", code: errno) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw FileIOError(path: path, operation: "read", code: EISDIR) }
        let size = Int(st.st_size)
        guard size <= limit else { throw FileIOError(path: path, operation: "read", code: EFBIG) }
        var readError: Int32 = 0
        var bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var done = 0
            while done < size {
                let n = read(fd, buffer.baseAddress! + done, size - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    readError = errno
                    break
                }
                if n == 0 { break }
                done += n
            }
            count = done
        }
        if readError != 0 { throw FileIOError(path: path, operation: "read", code: readError) }
        // A file that grew while we read it: take the rest too.
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError(path: path, operation: "read", code: errno)
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }

    /// Writes bytes to a new file (which must not exist) with the given mode.
    public static func writeNew(_ path: String, bytes: UnsafeRawBufferPointer, mode: mode_t = 0o644) throws(FileIOError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileIOError(path: path, operation: "create", code: errno) }
        var done = 0
        while done < bytes.count {
            let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                let code = errno
                close(fd)
                unlink(path)
                throw FileIOError(path: path, operation: "write", code: code)
            }
            done += n
        }
        if close(fd) != 0 {
            let code = errno
            unlink(path)
            throw FileIOError(path: path, operation: "close", code: code)
        }
    }

    /// Atomically writes a whole file: a temporary sibling is written, then renamed over `path`.
    public static func writeAtomically(_ path: String, bytes: [UInt8], mode: mode_t = 0o644) throws(FileIOError) {
        let tmp = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        var failure: FileIOError?
        bytes.withUnsafeBytes { raw in
            do throws(FileIOError) { try writeNew(tmp, bytes: raw, mode: mode) } catch { failure = error }
        }
        if let failure { throw failure }
        guard rename(tmp, path) == 0 else {
            let code = errno
            unlink(tmp)
            throw FileIOError(path: path, operation: "rename into place", code: code)
        }
    }

    /// Whether a path exists (following links), and whether it is a directory.
    public static func kind(_ path: String) -> (exists: Bool, isDirectory: Bool, isRegular: Bool) {
        var st = stat()
        guard stat(path, &st) == 0 else { return (false, false, false) }
        let type = st.st_mode & S_IFMT
        return (true, type == S_IFDIR, type == S_IFREG)
    }

    /// Creates a directory and its parents.
    public static func makeDirectories(_ path: String) throws(FileIOError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw FileIOError(path: path, operation: "create directory", code: EACCES)
        }
    }

    /// An absolute, standardised form of a path (relative paths are taken from the working directory).
    public static func absolute(_ path: String, relativeTo base: String? = nil) -> String {
        let url: URL
        if path.hasPrefix("/") {
            url = URL(fileURLWithPath: path)
        } else {
            let root = base ?? FileManager.default.currentDirectoryPath
            url = URL(fileURLWithPath: root).appendingPathComponent(path)
        }
        return url.standardizedFileURL.path
    }
}
