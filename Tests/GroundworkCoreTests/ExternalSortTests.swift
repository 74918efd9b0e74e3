import Foundation
import GroundworkTestSupport
import Testing

@testable import GroundworkCore

@Suite struct ExternalSortTests {
    /// Lines of every shape: empty, prefixes of one another, bytes above 0x7F, zero bytes,
    /// newlines, duplicates.
    private func lines(count: Int, seed: UInt64) -> [[UInt8]] {
        var random = SplitMix64(seed: seed)
        var out: [[UInt8]] = [[], [], [0], [0, 0], [0xFF], Array("a\nb".utf8), Array("ab".utf8), Array("a".utf8)]
        while out.count < count {
            let length = Int(random.next() % 12)
            out.append(
                (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next() % 5 == 0 ? random.next() : 97 + random.next() % 3)
                })
        }
        out += out.prefix(count / 10)
        return out
    }

    private func sorted(_ input: [[UInt8]], budget: Int, folder: String? = nil) throws -> [[UInt8]] {
        var sorter = ExternalSorter(budget: budget, folder: folder)
        for line in input { try sorter.add(line) }
        #expect(sorter.count == input.count)
        var out: [[UInt8]] = []
        try sorter.forEachSorted { out.append(Array($0)) }
        return out
    }

    @Test(arguments: [1, 7, 100, 4096, 1 << 26])
    func sortsAsBytesWhateverTheBudget(budget: Int) throws {
        let input = lines(count: 2_000, seed: UInt64(budget))
        let expected = input.sorted { $0.lexicographicallyPrecedes($1) }
        #expect(try sorted(input, budget: budget) == expected)
    }

    @Test func nothingInNothingOut() throws {
        #expect(try sorted([], budget: 1).isEmpty)
        #expect(try sorted([], budget: 1 << 20).isEmpty)
    }

    /// The runs have no name: the folder holds nothing while the sorter works or after it.
    @Test func runsLeaveNoFile() throws {
        let folder = TemporaryFolder()
        var sorter = ExternalSorter(budget: 16, folder: folder.path)
        for line in lines(count: 300, seed: 3) { try sorter.add(line) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
        var n = 0
        try sorter.forEachSorted { _ in n += 1 }
        #expect(n == 330)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test func aFolderThatIsNotThereIsAnError() throws {
        var sorter = ExternalSorter(budget: 1, folder: "/nonexistent/groundwork-sort")
        #expect(throws: FileIOError.self) { try sorter.add([1, 2, 3]) }
    }
}

@Suite struct DiagnosticSampleTests {
    @Test func keepsTheFirstOfEachCodeAndCountsTheRest() {
        var sample = DiagnosticSample(perCode: 2)
        for n in 0..<5 { sample.add(Diagnostic(.warning, file: "f", location: .line(n + 1), code: "a", message: "a\(n)")) }
        sample.add(Diagnostic(.error, file: "g", code: "b", message: "b0"))
        for n in 0..<3 { sample.add(Diagnostic(.error, file: "g", code: "c", message: "c\(n)")) }
        #expect(sample.total == 9)
        #expect(
            sample.diagnostics.map(\.message) == [
                "a0", "a1", "b0", "c0", "c1", "and 3 more of this kind (2 shown above)",
                "and 1 more of this kind (2 shown above)",
            ])
        #expect(sample.diagnostics.map(\.code) == ["a", "a", "b", "c", "c", "a", "c"])
        #expect(sample.diagnostics[5].severity == .warning && sample.diagnostics[6].severity == .error)
    }
}
