namespace Orleans.Rft.Agents.Tools;

/// <summary>
/// A read-only view of a server's stdout that fails once a line (bytes since the last newline) grows
/// past <paramref name="maxLineBytes"/>: MCP's stdio transport is newline-delimited JSON-RPC and the
/// SDK buffers a whole line before parsing it, so a server that writes hundreds of megabytes without a
/// newline would otherwise grow the silo's memory until the start or call timeout.
/// <paramref name="exceeded"/> runs once (it stops the server) before the read fails.
/// </summary>
sealed class LineLimitedStream(Stream inner, long maxLineBytes, Action exceeded) : Stream
{
    long lineBytes;
    int fired;

    public override int Read(byte[] buffer, int offset, int count) => Counted(buffer.AsSpan(offset, inner.Read(buffer, offset, count)));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Counted((buffer[..await inner.ReadAsync(buffer, cancellationToken)]).Span);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    int Counted(ReadOnlySpan<byte> read)
    {
        int last = read.LastIndexOf((byte)'\n');
        lineBytes = last >= 0 ? read.Length - last - 1 : lineBytes + read.Length;
        if (lineBytes > maxLineBytes)
        {
            if (Interlocked.Exchange(ref fired, 1) == 0) exceeded();
            throw new IOException($"the server wrote a line of more than {maxLineBytes >> 20} MiB without a newline; it was stopped.");
        }
        return read.Length;
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }
}
