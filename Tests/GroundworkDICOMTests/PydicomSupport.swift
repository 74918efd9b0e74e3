import Foundation
import GroundworkCore
import GroundworkImaging
import Testing

/// The pydicom reference: runs a script in `GROUNDWORK_PYTHON` that reads pydicom's and
/// pydicom-data's test files and writes what pydicom makes of them.
enum Pydicom {
    static var python: String? { ProcessInfo.processInfo.environment["GROUNDWORK_PYTHON"] }
    static var available: Bool { python != nil }

    /// Runs `script` with `arguments`; returns standard output. Fails the test when Python fails.
    static func run(_ script: String, _ arguments: [String]) throws -> Data {
        let python = try #require(python)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-c", script] + arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "python failed: \(errorText)")
        return data
    }

    /// The paths of test files by name (pydicom.data.get_testdata_file).
    static func paths(_ names: [String]) throws -> [String: String] {
        let script = """
            import json, sys
            from pydicom.data import get_testdata_file
            print(json.dumps({n: get_testdata_file(n) for n in sys.argv[1:]}))
            """
        let data = try run(script, names)
        let parsed = try JSONValue.parse([UInt8](data))
        var result: [String: String] = [:]
        for name in names {
            result[name] = try #require(parsed[name]?.stringValue, "pydicom-data has no \(name)")
        }
        return result
    }

    /// What pydicom makes of a file: modality-LUT values (grayscale), the VOI output scaled to
    /// 0...255 with MONOCHROME1 inverted (when the file has a window or VOI LUT), or RGB scaled to
    /// 0...255 (colour), for every frame in order.
    struct Reference {
        var path: String
        var photometric: String
        var frames: Int
        var modality: [Double]?
        var display: [Double]?
    }

    static let referenceScript = #"""
        import json, sys, os
        import numpy as np
        import pydicom
        from pydicom.data import get_testdata_file
        from pydicom.pixels import apply_modality_lut, apply_voi_lut, apply_color_lut

        out = sys.argv[1]
        manifest = {}
        for i, name in enumerate(sys.argv[2:]):
            path = get_testdata_file(name)
            ds = pydicom.dcmread(path)
            arr = ds.pixel_array
            frames = int(ds.get("NumberOfFrames", 1) or 1)
            pi = ds.PhotometricInterpretation
            entry = {"path": path, "photometric": pi, "frames": frames}
            if pi in ("MONOCHROME1", "MONOCHROME2"):
                mod = np.asarray(apply_modality_lut(arr, ds), dtype=np.float64)
                mod.tofile(os.path.join(out, f"{i}.mod"))
                entry["modality"] = f"{i}.mod"
                if "VOILUTSequence" in ds:
                    voi = np.asarray(apply_voi_lut(mod, ds), dtype=np.float64)
                    bits = ds.VOILUTSequence[0].LUTDescriptor[2]
                    norm = voi / (2 ** bits - 1)
                elif "WindowCenter" in ds:
                    voi = np.asarray(apply_voi_lut(mod, ds), dtype=np.float64)
                    if "ModalityLUTSequence" in ds:
                        y_min, y_max = 0, 2 ** ds.ModalityLUTSequence[0].LUTDescriptor[2] - 1
                    elif ds.PixelRepresentation == 0:
                        y_min, y_max = 0, 2 ** ds.BitsStored - 1
                    else:
                        y_min, y_max = -(2 ** (ds.BitsStored - 1)), 2 ** (ds.BitsStored - 1) - 1
                    if "RescaleSlope" in ds and "RescaleIntercept" in ds:
                        y_min = y_min * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
                        y_max = y_max * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
                    norm = (voi - y_min) / (y_max - y_min)
                else:
                    norm = None
                if norm is not None:
                    if pi == "MONOCHROME1":
                        norm = 1 - norm
                    (norm * 255).astype(np.float64).tofile(os.path.join(out, f"{i}.disp"))
                    entry["display"] = f"{i}.disp"
            else:
                if pi == "PALETTE COLOR":
                    if not ds.original_encoding[1]:
                        # pydicom 3.0.2 reads big-endian OW palette data as little endian: swap
                        # each word's bytes so that it sees the values the file holds.
                        for colour in ("Red", "Green", "Blue"):
                            keyword = f"{colour}PaletteColorLookupTableData"
                            if keyword in ds:
                                data = bytearray(ds[keyword].value)
                                data[0::2], data[1::2] = data[1::2], data[0::2]
                                ds[keyword].value = bytes(data)
                    rgb = apply_color_lut(arr, ds)
                    top = 65535 if ds.RedPaletteColorLookupTableDescriptor[2] > 8 else 255
                else:
                    rgb = arr
                    top = 2 ** ds.BitsStored - 1
                (np.asarray(rgb, dtype=np.float64) / top * 255).tofile(os.path.join(out, f"{i}.disp"))
                entry["display"] = f"{i}.disp"
            manifest[name] = entry
        print(json.dumps(manifest))
        """#

    static func references(_ names: [String]) throws -> [String: Reference] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gw-pydicom-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = try run(referenceScript, [folder.path] + names)
        let manifest = try JSONValue.parse([UInt8](data))
        func doubles(_ file: String?) throws -> [Double]? {
            guard let file else { return nil }
            let bytes = try Data(contentsOf: folder.appendingPathComponent(file))
            return bytes.withUnsafeBytes { raw in
                (0..<(raw.count / 8)).map { raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self) }
            }
        }
        var result: [String: Reference] = [:]
        for name in names {
            let entry = try #require(manifest[name])
            result[name] = Reference(
                path: try #require(entry["path"]?.stringValue), photometric: entry["photometric"]?.stringValue ?? "",
                frames: entry["frames"]?.intValue ?? 1, modality: try doubles(entry["modality"]?.stringValue),
                display: try doubles(entry["display"]?.stringValue))
        }
        return result
    }
}
