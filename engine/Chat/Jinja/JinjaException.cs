namespace Orleans.Rft.Engine.Chat.Jinja;

/// <summary>
/// A template that cannot be parsed or rendered: the message names the template's line and what
/// went wrong (Python's Jinja2 raises TemplateSyntaxError / UndefinedError / TypeError there).
/// </summary>
public sealed class JinjaException(string message) : Exception(message);

/// <summary>The template itself called <c>raise_exception(message)</c> (transformers' helper); <see cref="TemplateMessage"/> is its text.</summary>
public sealed class JinjaRaisedException(string templateMessage)
    : Exception($"the chat template refused the conversation: {templateMessage}")
{
    public string TemplateMessage { get; } = templateMessage;
}
