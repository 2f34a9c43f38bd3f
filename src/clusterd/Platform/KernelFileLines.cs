using System.Runtime.Versioning;
using Microsoft.Win32.SafeHandles;

namespace Clusterd.Platform;

/// <summary>
/// The lines of a file the kernel writes as it is read, through a buffer of the caller's, for a file that may be
/// longer than the buffer (cgroup.procs of a pre-fork worker with hundreds of processes): what is read is split into
/// lines, a line cut by the buffer's end is moved to its start and completed by the next read. A line longer than the
/// whole buffer, or a read that fails, ends the lines with <see cref="Failed"/> set.
/// </summary>
[SupportedOSPlatform("linux")]
internal ref struct KernelFileLines
{
    private readonly SafeFileHandle _file;
    private readonly Span<byte> _buffer;
    private int _start; // the unread lines are _buffer[_start.._end]
    private int _end;
    private bool _atEnd;

    public KernelFileLines(SafeFileHandle file, Span<byte> buffer)
    {
        _file = file;
        _buffer = buffer;
    }

    /// <summary>True if the lines ended early: a read failed, or a line did not fit in the buffer.</summary>
    public bool Failed { get; private set; }

    /// <summary>The next line, without its newline; false at the end of the file (or on failure).</summary>
    public bool TryNext(out ReadOnlySpan<byte> line)
    {
        while (true)
        {
            var newline = _buffer[_start.._end].IndexOf((byte)'\n');
            if (newline >= 0)
            {
                line = _buffer.Slice(_start, newline);
                _start += newline + 1;
                return true;
            }
            if (_atEnd)
            {
                line = _buffer[_start.._end]; // the last line, if the file does not end with a newline
                _start = _end;
                return !line.IsEmpty;
            }
            _buffer[_start.._end].CopyTo(_buffer);
            _end -= _start;
            _start = 0;
            var read = _end == _buffer.Length ? -1 : KernelFile.ReadOnce(_file, _buffer[_end..]);
            if (read < 0)
            {
                Failed = true;
                line = default;
                return false;
            }
            _atEnd = read == 0;
            _end += read;
        }
    }
}
