// Starts Swagger UI on /api/docs. A file, not an inline script: the CSP forbids those.
window.addEventListener("load", function () {
  var el = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: el.getAttribute("data-spec-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    layout: "StandaloneLayout",
    // Same-origin requests carry the session cookie; state changes need its CSRF token.
    requestInterceptor: function (req) {
      var token = el.getAttribute("data-csrf-token");
      if (token && req.method && req.method.toUpperCase() !== "GET") {
        req.headers["X-CSRF-Token"] = token;
      }
      return req;
    },
  });
});
