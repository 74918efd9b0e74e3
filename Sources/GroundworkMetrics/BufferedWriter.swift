import Foundation
import GroundworkCore

/// A file written through a 1 MiB buffer, to a temporary name renamed into place on `close`.
final class BufferedWriter {
    private let path: String
    private let temporary: String
    private let handle: UnsafeMutablePointer<FILE>
    private var buffer: [UInt8] = []
    private var closed = false

    init(path: String) throws(FileIOError) {
        self.path = path
        temporary = path + ".partial"
        guard let handle = fopen(temporary, "wb") else { throw FileIOError(path: temporary, operation: "create", code: errno) }
        self.handle = handle
        buffer.reserveCapacity(1 << 20)
    }

    func write(_ bytes: [UInt8]) throws(FileIOError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func flush() throws(FileIOError) {
        guard !buffer.isEmpty else { return }
        let written = buffer.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, handle) }
        guard written == buffer.count else { throw FileIOError(path: temporary, operation: "write", code: errno) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// A writer dropped before `close` (scoring threw): its handle is closed and its partial file
    /// removed.
    deinit {
        if !closed {
            fclose(handle)
            unlink(temporary)
        }
    }

    /// Flushes, writes `start` over the file's first bytes (a header whose content is known only
    /// at the end, of the length written first), and closes.
    func close(replacingStart start: [UInt8]) throws(FileIOError) {
        try flush()
        guard fseek(handle, 0, SEEK_SET) == 0,
            start.withUnsafeBytes({ fwrite($0.baseAddress, 1, $0.count, handle) }) == start.count
        else { throw FileIOError(path: temporary, operation: "write", code: errno) }
        try close()
    }

    func close() throws(FileIOError) {
        try flush()
        closed = true
        guard fclose(handle) == 0 else {
            unlink(temporary)
            throw FileIOError(path: temporary, operation: "close", code: errno)
        }
        guard rename(temporary, path) == 0 else { throw FileIOError(path: path, operation: "rename into place", code: errno) }
    }
}
