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
    /// A reason more precise than the system's (e.g. "a named pipe (FIFO), not a regular file").
    public var detail: String?

    public init(path: String, operation: String, code: Int32, detail: String? = nil) {
        self.path = path
        self.operation = operation
        self.code = code
        self.detail = detail
    }

    public var reason: String { detail ?? String(cString: strerror(code)) }
    public var description: String { "\(path): cannot \(operation): \(reason)" }
}

/// Small, allocation-conscious POSIX file helpers used on hot import paths.
public enum FileIO {
    /// Reads a whole regular file into memory.
    /// - Parameter limit: refuse files larger than this many bytes (reported as EFBIG).
    public static func readAll(_ path: String, limit: Int = Int.max) throws(FileIOError) -> [UInt8] {
        let fd = try openRegularFile(path)
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw FileIOError(path: path, operation: "stat", code: errno) }
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

    // MARK: Inputs

    /// The kind of a file-system object, in words, for errors ("a folder", "a named pipe (FIFO)").
    public static func describe(mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFREG: return "a regular file"
        case S_IFDIR: return "a folder"
        case S_IFIFO: return "a named pipe (FIFO)"
        case S_IFSOCK: return "a socket"
        case S_IFCHR: return "a character device"
        case S_IFBLK: return "a block device"
        case S_IFLNK: return "a symbolic link"
        default: return "a special file"
        }
    }

    /// Checks that an input is a regular file (following links) without opening it, so that a
    /// named pipe, socket or device given by mistake is refused instead of blocking a read.
    /// - Throws: `FileIOError` naming the file and what it is instead (ENOENT when missing).
    public static func requireRegularFile(_ path: String) throws(FileIOError) {
        var st = stat()
        guard stat(path, &st) == 0 else { throw FileIOError(path: path, operation: "open", code: errno) }
        let type = st.st_mode & S_IFMT
        guard type == S_IFREG else {
            throw FileIOError(
                path: path, operation: "read", code: type == S_IFDIR ? EISDIR : EINVAL,
                detail: "it is \(describe(mode: st.st_mode)), not a regular file")
        }
    }

    /// Checks that an input is a regular file or a folder (following links), without opening it.
    /// - Returns: true for a folder, false for a regular file.
    /// - Throws: `FileIOError` naming the path and what it is instead (ENOENT when missing).
    @discardableResult
    public static func requireFileOrFolder(_ path: String) throws(FileIOError) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { throw FileIOError(path: path, operation: "open", code: errno) }
        let type = st.st_mode & S_IFMT
        guard type == S_IFREG || type == S_IFDIR else {
            throw FileIOError(
                path: path, operation: "read", code: EINVAL,
                detail: "it is \(describe(mode: st.st_mode)), not a regular file or a folder")
        }
        return type == S_IFDIR
    }

    /// Opens an input for reading, refusing anything but a regular file: the path is checked
    /// before it is opened, opened without blocking (a pipe that appears in between cannot hang
    /// the open), and checked again on the open descriptor. Every reader of user-named files goes
    /// through here (or ``readAll(_:limit:)``, which does).
    /// - Returns: a blocking read-only descriptor the caller closes.
    public static func openRegularFile(_ path: String) throws(FileIOError) -> Int32 {
        try requireRegularFile(path)
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        guard fd >= 0 else { throw FileIOError(path: path, operation: "open", code: errno) }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let code = errno
            close(fd)
            throw FileIOError(path: path, operation: "stat", code: code)
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw FileIOError(
                path: path, operation: "read", code: EINVAL, detail: "it is \(describe(mode: st.st_mode)), not a regular file")
        }
        let flags = fcntl(fd, F_GETFL)
        if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
        return fd
    }

    /// Reads a whole input as UTF-8 text (a regular file; see ``openRegularFile(_:)``).
    /// - Throws: `FileIOError`; EILSEQ when the bytes are not UTF-8.
    public static func readText(_ path: String, limit: Int = Int.max) throws(FileIOError) -> String {
        var bytes = try readAll(path, limit: limit)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw FileIOError(path: path, operation: "read", code: EILSEQ, detail: "it is not UTF-8 text")
        }
        return text
    }

    // MARK: Folders

    /// One entry of a folder, its name as the raw bytes the file system holds.
    public struct FolderEntry: Sendable, Hashable {
        /// The name's bytes (never containing "/" or NUL).
        public var bytes: [UInt8]
        /// The name, when its bytes are valid UTF-8 (nil otherwise: such a name cannot be
        /// spelled as a Swift `String` without changing it).
        public var name: String? { String(validating: bytes, as: UTF8.self) }
        /// The name for messages: valid UTF-8 as is, other bytes escaped as `\xNN`.
        public var displayName: String { FileIO.escaped(bytes) }
        /// Whether the name starts with a dot.
        public var isHidden: Bool { bytes.first == UInt8(ascii: ".") }
    }

    /// The entries of a folder (without "." and ".."), sorted by the bytes of their names.
    ///
    /// Unlike `FileManager.contentsOfDirectory`, which leaves out names that are not valid
    /// UTF-8 without a word, every entry is returned: callers refuse (or report) those whose
    /// ``FolderEntry/name`` is nil.
    public static func listFolder(_ path: String) throws(FileIOError) -> [FolderEntry] {
        guard let dir = opendir(path) else { throw FileIOError(path: path, operation: "list", code: errno) }
        defer { closedir(dir) }
        var entries: [FolderEntry] = []
        while true {
            errno = 0
            guard let entry = readdir(dir) else {
                if errno != 0 { throw FileIOError(path: path, operation: "list", code: errno) }
                break
            }
            let bytes = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                Array(raw.prefix(while: { $0 != 0 }))
            }
            if bytes == [UInt8(ascii: ".")] || bytes == [UInt8(ascii: "."), UInt8(ascii: ".")] { continue }
            entries.append(FolderEntry(bytes: bytes))
        }
        return entries.sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
    }

    /// One entry found under a folder by ``listTree(_:)``.
    public struct TreeEntry: Sendable, Hashable {
        /// The path relative to the root, `/`-separated, bytes that are not UTF-8 escaped `\xNN`.
        public var path: String
        /// Whether every component of the name is valid UTF-8 (else `path` cannot be opened).
        public var isValidName: Bool
        /// Whether it is a regular file (following links).
        public var isRegular: Bool
    }

    /// Every entry under `root` (hidden ones too; folders are descended, symbolic links to
    /// folders are not), sorted by path. Unlike `FileManager.enumerator`, an entry whose name is
    /// not valid UTF-8 is returned (with ``TreeEntry/isValidName`` false), never dropped; a folder
    /// with such a name is returned but not descended.
    public static func listTree(_ root: String) throws(FileIOError) -> [TreeEntry] {
        var result: [TreeEntry] = []
        func walk(_ folder: String, _ prefix: String) throws(FileIOError) {
            for entry in try listFolder(folder) {
                let relative = prefix.isEmpty ? entry.displayName : prefix + "/" + entry.displayName
                guard let name = entry.name else {
                    result.append(TreeEntry(path: relative, isValidName: false, isRegular: false))
                    continue
                }
                let full = folder + "/" + name
                var st = stat()
                let isLink = lstat(full, &st) == 0 && (st.st_mode & S_IFMT) == S_IFLNK
                let kind = kind(full)
                if kind.isDirectory && !isLink {
                    try walk(full, relative)
                } else {
                    result.append(TreeEntry(path: relative, isValidName: true, isRegular: kind.isRegular))
                }
            }
        }
        try walk(root, "")
        return result.sorted { $0.path < $1.path }
    }

    /// Bytes as text for messages: valid UTF-8 sequences as they are, every other byte (and
    /// control characters) as `\xNN`, so a name with invalid bytes can be shown and told apart.
    public static func escaped(_ bytes: [UInt8]) -> String {
        var result = ""
        var index = 0
        while index < bytes.count {
            var length = 0
            let first = bytes[index]
            if first < 0x80 {
                length = 1
            } else if first >= 0xC2 && first <= 0xF4 {
                length = first < 0xE0 ? 2 : first < 0xF0 ? 3 : 4
            }
            if length > 0, index + length <= bytes.count,
                let text = String(validating: bytes[index..<(index + length)], as: UTF8.self),
                !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F || $0 == "\\" })
            {
                result += text
                index += length
            } else {
                result += "\\x" + String(bytes[index], radix: 16, uppercase: true).leftPadded(to: 2)
                index += 1
            }
        }
        return result
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

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
