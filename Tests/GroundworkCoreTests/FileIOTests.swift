import Foundation
import GroundworkTestSupport
import Testing

@testable import GroundworkCore

#if canImport(Glibc)
    import Glibc
#endif

/// A scratch folder for one test, removed afterwards.
private final class Scratch {
    let path = FileManager.default.temporaryDirectory.path + "/groundwork-fileio-\(UUID().uuidString)"
    init() { try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    /// A named pipe at `name`.
    func fifo(_ name: String) -> String {
        let file = path + "/" + name
        precondition(mkfifo(file, 0o644) == 0, "mkfifo failed")
        return file
    }

    /// A file whose name is the given bytes (which need not be UTF-8).
    func file(rawName: [UInt8], _ bytes: [UInt8]) {
        let full = Array(path.utf8) + [UInt8(ascii: "/")] + rawName + [0]
        let fd = full.withUnsafeBufferPointer {
            $0.baseAddress!.withMemoryRebound(to: CChar.self, capacity: full.count) {
                open($0, O_WRONLY | O_CREAT | O_EXCL, 0o644)
            }
        }
        precondition(fd >= 0, "cannot create the file")
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }
}

@Suite("FileIO: inputs are regular files, folders list every name")
struct FileIOTests {
    @Test("a named pipe is refused, without blocking, by every way an input is read")
    func namedPipesAreRefused() throws {
        let scratch = Scratch()
        let fifo = scratch.fifo("annotations.json")
        let readers: [(String, () throws -> Void)] = [
            ("readAll", { _ = try FileIO.readAll(fifo) }),
            ("readText", { _ = try FileIO.readText(fifo) }),
            ("openRegularFile", { close(try FileIO.openRegularFile(fifo)) }),
            ("JSONStreamReader", { _ = try JSONStreamReader(path: fifo) }),
            ("JSONLinesReader", { _ = try JSONLinesReader(path: fifo) }),
        ]
        for (name, read) in readers {
            let error = withDeadline(10, unblocking: [fifo], read)
            let failure = try #require(error as? FileIOError, "\(name) should refuse the pipe")
            #expect(failure.path == fifo, "\(name)")
            #expect(failure.description.contains("named pipe (FIFO), not a regular file"), "\(name): \(failure)")
        }
        #expect(throws: FileIOError.self) { try FileIO.requireFileOrFolder(fifo) }
        #expect(try FileIO.requireFileOrFolder(scratch.path))
        // A folder is not a file either, and says so.
        #expect(throws: FileIOError.self) { try FileIO.readAll(scratch.path) }
        do {
            try FileIO.requireRegularFile(scratch.path)
            Issue.record("a folder is not a regular file")
        } catch {
            #expect(error.reason == "it is a folder, not a regular file")
        }
    }

    @Test("a folder's names come as raw bytes: one that is not UTF-8 is listed, not dropped")
    func foldersListEveryName() throws {
        let scratch = Scratch()
        scratch.file(rawName: Array("b.txt".utf8), [1])
        scratch.file(rawName: [0xFF, 0xFE] + Array(".txt".utf8), [2])
        scratch.file(rawName: Array(".hidden".utf8), [3])
        scratch.file(rawName: Array("a\u{e9}.txt".utf8), [4])
        let entries = try FileIO.listFolder(scratch.path)
        #expect(entries.map(\.displayName) == [".hidden", "a\u{e9}.txt", "b.txt", "\\xFF\\xFE.txt"])
        #expect(entries.map { $0.name != nil } == [true, true, true, false])
        #expect(entries.map(\.isHidden) == [true, false, false, false])
        #expect(throws: FileIOError.self) { try FileIO.listFolder(scratch.path + "/missing") }
    }

    @Test("bytes that are not UTF-8 are shown escaped, and so are control characters and backslashes")
    func escaping() {
        #expect(FileIO.escaped(Array("plain é.png".utf8)) == "plain é.png")
        #expect(FileIO.escaped([0x61, 0xC3, 0x28, 0xFF, 0x5C, 0x0A, 0xE2, 0x82]) == "a\\xC3(\\xFF\\x5C\\x0A\\xE2\\x82")
        // Latin-1 "é" (0xE9) in a name written by an old tool.
        #expect(FileIO.escaped([0x63, 0x61, 0x66, 0xE9]) == "caf\\xE9")
    }
}
