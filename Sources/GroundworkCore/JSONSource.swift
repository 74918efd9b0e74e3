#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An open regular file, read by offset (`pread`) so that several readers can share it.
/// Closed when the last reader lets go of it.
final class JSONFileDescriptor: Sendable {
    let fd: Int32
    let path: String

    /// Opens `path` for reading; refuses directories and other files that are not regular.
    init(path: String) throws(FileIOError) {
        self.fd = try FileIO.openRegularFile(path)
        self.path = path
    }

    deinit { close(fd) }
}

/// Where a reader's bytes come from.
enum JSONByteSource: Sendable {
    /// Nothing more: the reader's buffer already holds the whole text.
    case none
    /// A file, read in chunks.
    case file(JSONFileDescriptor)
    /// An in-memory text, handed out in chunks like a file (so both take the same paths).
    case memory([UInt8])

    /// Copies up to `count` bytes starting at `offset` into `destination`.
    /// - Returns: the number of bytes copied (0 at the end), or the `errno` of a failed read.
    func read(into destination: UnsafeMutablePointer<UInt8>, count: Int, at offset: Int) -> Result<Int, FileIOError> {
        switch self {
        case .none:
            return .success(0)
        case .memory(let bytes):
            let n = min(count, bytes.count - offset)
            guard n > 0 else { return .success(0) }
            bytes.withUnsafeBufferPointer { source in
                destination.update(from: source.baseAddress! + offset, count: n)
            }
            return .success(n)
        case .file(let file):
            while true {
                let n = pread(file.fd, destination, count, off_t(offset))
                if n >= 0 { return .success(n) }
                if errno == EINTR { continue }
                return .failure(FileIOError(path: file.path, operation: "read", code: errno))
            }
        }
    }
}
