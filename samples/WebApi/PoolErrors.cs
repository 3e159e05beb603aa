using TrtMLNet.Serving;

namespace WebApi;

/// <summary>Maps the pool's errors to HTTP: a full queue is 429 (retry later), a row that cannot be scored is 422.</summary>
public sealed class PoolErrors : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        try
        {
            return await next(context);
        }
        catch (PredictionPoolFullException full)
        {
            context.HttpContext.Response.Headers.RetryAfter = "1";
            return Results.Problem(full.Message, statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests");
        }
        catch (PredictionFailedException failed)
        {
            return Results.Problem(failed.Message, statusCode: StatusCodes.Status422UnprocessableEntity, title: "The row could not be scored");
        }
        catch (InvalidDataException bad)
        {
            return Results.Problem(bad.Message, statusCode: StatusCodes.Status400BadRequest, title: "Bad request");
        }
    }
}
