// WebAuthn for the emulator's hosted login: runs navigator.credentials.create
// or .get with the options in the form's data-options attribute and posts the
// credential (WebAuthn JSON, base64url) back with the form.
(function () {
  "use strict";

  function toBuffer(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) {
      b64 += "=";
    }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }

  function toBase64Url(buffer) {
    var bytes = new Uint8Array(buffer);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) {
      bin += String.fromCharCode(bytes[i]);
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  var form = document.getElementById("webauthn-form");
  if (!form) {
    return;
  }
  var create = form.getAttribute("data-mode") === "create";
  var options = JSON.parse(form.getAttribute("data-options")).publicKey;
  options.challenge = toBuffer(options.challenge);
  if (create) {
    options.user.id = toBuffer(options.user.id);
  }
  (options.excludeCredentials || []).forEach(function (c) {
    c.id = toBuffer(c.id);
  });
  (options.allowCredentials || []).forEach(function (c) {
    c.id = toBuffer(c.id);
  });
  var button = document.getElementById("webauthn-start");
  var failed = document.getElementById("webauthn-failed");

  button.addEventListener("click", function () {
    button.disabled = true;
    failed.hidden = true;
    var pending = create
      ? navigator.credentials.create({ publicKey: options })
      : navigator.credentials.get({ publicKey: options });
    pending
      .then(function (cred) {
        var r = cred.response;
        var json = {
          id: cred.id,
          rawId: toBase64Url(cred.rawId),
          type: cred.type,
          response: { clientDataJSON: toBase64Url(r.clientDataJSON) },
        };
        if (create) {
          json.response.attestationObject = toBase64Url(r.attestationObject);
        } else {
          json.response.authenticatorData = toBase64Url(r.authenticatorData);
          json.response.signature = toBase64Url(r.signature);
          if (r.userHandle) {
            json.response.userHandle = toBase64Url(r.userHandle);
          }
        }
        form.elements.credential.value = JSON.stringify(json);
        form.submit();
      })
      .catch(function (err) {
        // The error's name (NotAllowedError, InvalidStateError, …) helps tests.
        failed.setAttribute("data-error", err && err.name ? err.name + ": " + err.message : "Error");
        button.disabled = false;
        failed.hidden = false;
      });
  });
})();
