import Foundation
import GroundworkCore
import GroundworkImaging
import Testing

/// Groundwork's reading and rendering against pydicom's, file by file.
@Suite(
    "DICOM against pydicom",
    .enabled(if: Pydicom.available, "set GROUNDWORK_PYTHON to a python3 with pydicom to run this cross-check (tools/test does)"))
struct PydicomCrossCheckTests {
    /// Every transfer syntax and pixel layout Groundwork supports, from pydicom's and pydicom-data's test files.
    static let files = [
        // CT, 16-bit signed, rescale to HU; explicit VR little endian.
        "CT_small.dcm",
        // MR in every transfer syntax: implicit/explicit LE, explicit BE, RLE, JPEG-LS, JPEG 2000 lossless.
        "MR_small.dcm", "MR_small_implicit.dcm", "MR_small_bigendian.dcm", "MR_small_expb.dcm", "MR_small_RLE.dcm",
        "MR_small_jpeg_ls_lossless.dcm", "MR_small_jp2klossless.dcm",
        // 14-bit CT: uncompressed, JPEG 2000 lossless and lossy.
        "693_UNCR.dcm", "693_UNCI.dcm", "693_J2KR.dcm", "693_J2KI.dcm",
        // MONOCHROME1 chest X-rays.
        "RG1_UNCR.dcm", "RG1_J2KR.dcm", "RG3_UNCR.dcm",
        // MR with a non-integer rescale slope.
        "MR2_UNCR.dcm",
        // RGB ultrasound, uncompressed and JPEG 2000.
        "US1_UNCR.dcm", "US1_J2KR.dcm",
        // Palette colour: 8-bit (explicit LE, RLE, big endian 2 frames) and 16-bit.
        "OBXXXX1A.dcm", "OBXXXX1A_rle.dcm", "OBXXXX1A_expb_2frame.dcm", "gdcm-US-ALOKA-16.dcm",
        // Multi-frame (enhanced MR) in five transfer syntaxes.
        "emri_small.dcm", "emri_small_RLE.dcm", "emri_small_big_endian.dcm", "emri_small_jpeg_ls_lossless.dcm",
        "emri_small_jpeg_2k_lossless.dcm",
        // JPEG lossless (process 14), baseline 8-bit, extended 12-bit.
        "JPEG-LL.dcm", "JPGLosslessP14SV1_1s_1f_8b.dcm", "JPGExtended.dcm",
        // JPEG-LS near-lossless.
        "JPEGLSNearLossless_16.dcm",
        // RGB: JPEG baseline (YBR_FULL_422 in the file), RLE, 16 and 32-bit, planar, big endian.
        "SC_rgb_jpeg_dcmtk.dcm", "SC_rgb_rle.dcm", "SC_rgb_16bit.dcm", "SC_rgb_32bit.dcm", "color-pl.dcm",
        "ExplVR_BigEnd.dcm",
        // YBR_FULL and YBR_FULL_422 uncompressed.
        "SC_ybr_full_uncompressed.dcm", "SC_ybr_full_422_uncompressed.dcm",
        // Deflated explicit VR little endian.
        "image_dfl.dcm",
        // VOI LUT Sequence; Modality LUT Sequence.
        "vlut_04.dcm", "mlut_18.dcm",
    ]

    /// Files whose pixels are lossy JPEG (process 2 and 4), decoded by libjpeg here and by pylibjpeg there.
    static let lossy: Set<String> = ["JPGExtended.dcm"]

    @Test func everyFileMatchesPydicom() throws {
        let references = try Pydicom.references(Self.files)
        var checked = 0
        for name in Self.files {
            let reference = try #require(references[name])
            do {
                try check(name, reference)
                checked += 1
            } catch {
                Issue.record("\(name): \(error)")
            }
        }
        #expect(checked == Self.files.count)
    }

    func check(_ name: String, _ reference: Pydicom.Reference) throws {
        let bytes = try FileIO.readAll(reference.path)
        let file = try DICOMFile(bytes: bytes)
        let attributes = try file.attributes()
        let layout = try file.decode()
        #expect(layout.frames == reference.frames, "\(name): frames")
        let renderer = DICOMRenderer(file: file, layout: layout, attributes: attributes)
        let perFrame = layout.rows * layout.columns
        for frame in 0..<layout.frames {
            if let modality = reference.modality {
                let ours = try renderer.modalityValues(frame: frame)
                let theirs = Array(modality[(frame * perFrame)..<((frame + 1) * perFrame)])
                // Lossy JPEG decoders may differ by one stored value (their inverse DCTs differ).
                let tolerance = Self.lossy.contains(name) ? 1.0 : 1e-9
                let worst = zip(ours, theirs).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
                #expect(worst <= tolerance, "\(name) frame \(frame + 1): modality values differ from pydicom by \(worst)")
            }
            if let display = reference.display {
                let rendering = try renderer.render(frame: frame)
                let size = perFrame * rendering.pixels.channels
                let theirs = display[(frame * size)..<((frame + 1) * size)]
                let ours = rendering.pixels.samples.map(Double.init)
                let worst = zip(ours, theirs).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= 1.0 + 1e-9, "\(name) frame \(frame + 1): rendered values differ from pydicom by \(worst)")
            }
        }
    }

    /// Damaged copies of files in several transfer syntaxes and layouts: an error or an image,
    /// never a crash.
    @Test func damagedFilesNeverCrash() throws {
        let names = [
            "CT_small.dcm", "JPEG-LL.dcm", "MR_small_jp2klossless.dcm", "MR_small_RLE.dcm", "OBXXXX1A.dcm",
            "SC_ybr_full_422_uncompressed.dcm", "emri_small_jpeg_ls_lossless.dcm", "rtdose.dcm",
        ]
        let files = try Pydicom.paths(names)
        var state: UInt64 = 0x5EED
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        var failures = 0
        var images = 0
        for name in names {
            let original = try FileIO.readAll(try #require(files[name]))
            for _ in 0..<12 {
                var bytes = original
                for _ in 0..<(1 + next(16)) { bytes[132 + next(bytes.count - 132)] = UInt8(next(256)) }
                if next(4) == 0 { bytes = Array(bytes.prefix(132 + next(bytes.count - 132))) }
                do {
                    let file = try DICOMFile(bytes: bytes)
                    let attributes = try file.attributes()
                    let layout = try file.decode()
                    let renderer = DICOMRenderer(file: file, layout: layout, attributes: attributes)
                    for frame in 0..<min(layout.frames, 2) {
                        let rendering = try renderer.render(frame: frame)
                        #expect(rendering.pixels.isConsistent)
                    }
                    images += 1
                } catch {
                    #expect(!error.message.isEmpty)
                    failures += 1
                }
            }
        }
        #expect(failures + images == names.count * 12)
    }
}
