using Clusterctl.Output;

namespace Clusterctl.Tests;

public sealed class TerminalTextTests
{
    [Theory]
    [InlineData("plain text, tabs\tand unicode: é ✓", "plain text, tabs\tand unicode: é ✓")]
    [InlineData("\u001b[31mred\u001b[0m", "\\x1b[31mred\\x1b[0m")]
    [InlineData("a\rb\nc\0d\u007f", "a\\x0db\\x0ac\\x00d\\x7f")]
    [InlineData("\u009b2J", "\\x9b2J")]
    [InlineData("abc\u202edef\u2066", "abc\\u202edef\\u2066")]
    [InlineData("C:\\path\\x1b", "C:\\path\\x1b")]
    public void Escape_ControlCharactersAndBidiOverrides_BecomeVisible(string text, string shown)
    {
        Assert.Equal(shown, TerminalText.Escape(text));
    }

    [Fact]
    public void Shown_NotATerminal_IsTheTextItself()
    {
        Assert.Equal("\u001b[2J", TerminalText.Shown("\u001b[2J", terminal: false));
    }

    [Fact]
    public void Escape_NothingToEscape_ReturnsTheSameString()
    {
        const string text = "listening on :8080";
        Assert.Same(text, TerminalText.Escape(text));
    }
}
