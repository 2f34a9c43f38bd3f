using System.Text;
using Clusterd.Supervision.Health;

namespace Clusterd.Tests.Supervision.Health;

public class HealthProbeTests
{
    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\n")]
    [InlineData("HTTP/1.0 204 No Content\r\n")]
    [InlineData("HTTP/1.1 302 Found\r\n")]
    public void Judge_2xxOr3xx_Passes(string response) =>
        Assert.Null(HealthProbe.Judge(Encoding.ASCII.GetBytes(response)));

    [Theory]
    [InlineData("HTTP/1.1 500 Internal Server Error\r\n", "HTTP 500")]
    [InlineData("HTTP/1.1 404 Not Found\r\n", "HTTP 404")]
    [InlineData("HTTP/1.1 199 Odd\r\n", "HTTP 199")]
    [InlineData("SSH-2.0-OpenSSH_9.2\r\n", "not an HTTP answer")]
    [InlineData("HTTP/1.1 2x0 OK\r\n", "not an HTTP answer")]
    [InlineData("", "the connection closed without an answer")]
    public void Judge_AnythingElse_FailsSayingWhy(string response, string why) =>
        Assert.Equal(why, HealthProbe.Judge(Encoding.ASCII.GetBytes(response)));
}
