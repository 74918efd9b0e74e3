import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the tool with a watchdog: when it has not exited within `seconds` (blocked on a named
/// pipe), each pipe is opened for writing and closed (a blocked reader then sees end of file),
/// the process is terminated, and the test fails instead of hanging.
private func runWithTimeout(_ arguments: [String], seconds: Double, unblocking fifos: [String]) throws -> CLI.Result {
    let process = CLI.start(arguments)
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let exited = DispatchSemaphore(value: 0)
    process.terminationHandler = { _ in exited.signal() }
    try process.run()
    nonisolated(unsafe) var outData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        outData = out.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    if exited.wait(timeout: .now() + seconds) == .timedOut {
        Issue.record("groundwork \(arguments.joined(separator: " ")) still running after \(seconds) s")
        for fifo in fifos {
            let fd = open(fifo, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        process.terminate()
        exited.wait()
    }
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    return CLI.Result(
        status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData, as: UTF8.self))
}

@Suite("groundwork inputs: pipes and class files, end to end", .serialized)
struct InputCLITests {
    @Test("import regions with a named pipe as the file exits 1 at once, naming it")
    func pipeIsRefused() throws {
        let folder = TemporaryFolder()
        let project = folder.path + "/proj"
        try CLI.run(["init", project])
        let fifo = folder.path + "/annotations.json"
        #expect(mkfifo(fifo, 0o644) == 0)
        for extra in [["--format", "coco"], []] {
            let result = try runWithTimeout(
                ["import", "regions", fifo, "--project", project] + extra, seconds: 20, unblocking: [fifo])
            #expect(result.status == 1, "\(result.stderr)")
            #expect(result.stderr.contains(fifo))
            #expect(result.stderr.contains("named pipe (FIFO)"))
        }
    }

    @Test("--classes data.yaml names the classes from 'names' (Roboflow), and a blank line in a .names file is refused")
    func classesOption() throws {
        let folder = TemporaryFolder()
        let project = folder.path + "/proj"
        try CLI.run(["init", project])
        folder.write("ds/train/images/a.png", samplePNG(width: 40, height: 30, seed: 3))
        #expect(try CLI.run(["import", "images", folder.path + "/ds", "--recursive", "--project", project]).status == 0)
        let labels = folder.write("ds/train/labels/a.txt", "1 0.5 0.5 0.25 0.5\n")
        let yaml = folder.write(
            "ds/roboflow.yaml", "train: ../train/images\nval: ../valid/images\n\nnc: 2\nnames: ['nodule', 'mass']\n")
        let imported = try CLI.run([
            "import", "regions", labels, "--format", "yolo", "--classes", yaml, "--add-labels", "--project", project, "--json",
        ])
        #expect(imported.status == 0, "\(imported.stderr)")
        let list =
            try JSONSerialization.jsonObject(
                with: Data(try CLI.run(["regions", "list", "--json", "--project", project]).stdout.utf8)) as? [[String: Any]]
        #expect(list?.map { $0["label"] as? String } == ["mass"])
        let names = folder.write("ds/obj.names", "nodule\n\nmass\n")
        let refused = try CLI.run([
            "import", "regions", labels, "--format", "yolo", "--classes", names, "--add-labels", "--project", project,
        ])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("\(names): line 2: error:"), "\(refused.stderr)")
    }
}
