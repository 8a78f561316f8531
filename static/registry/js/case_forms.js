/* Live help while a case is typed. The server computes and validates everything again:
 * these only mirror registry/derived.py so the surgeon sees the score as they go. */
(function () {
  "use strict";

  function num(input) {
    if (!input || input.value === "") { return null; }
    var value = parseFloat(input.value.replace(",", "."));
    return isNaN(value) ? null : value;
  }

  // derived.rfvh, derived.height_loss, derived.suggested_genant_grade
  function rfvh(anterior, above, below) {
    if (!anterior || !above || !below) { return null; }
    return anterior / ((above + below) / 2) * 100;
  }
  function suggestedGrade(loss) {
    if (loss === null) { return null; }
    if (loss < 20) { return 0; }
    if (loss <= 25) { return 1; }
    if (loss <= 40) { return 2; }
    return 3;
  }
  function byName(root, ending) {
    return root.querySelector('[name$="' + ending + '"]');
  }
  function setDisabled(container, disabled) {
    if (container) { container.disabled = disabled; }
  }

  // --- fractures page: level picker opens a section per chosen vertebra ----------------
  document.querySelectorAll("[data-level-toggle]").forEach(function (box) {
    var section = document.getElementById(box.dataset.levelToggle);
    if (!section) { return; }
    box.addEventListener("change", function () {
      section.hidden = !box.checked;
      setDisabled(section.querySelector("[data-section-inputs]"), !box.checked);
    });
  });

  // --- fractures page: Genant grade suggested from the heights -----------------------------
  document.querySelectorAll("[data-genant]").forEach(function (block) {
    var anterior = byName(block, "-anterior_height_mm");
    var above = byName(block, "-above_anterior_height_mm");
    var below = byName(block, "-below_anterior_height_mm");
    var grade = byName(block, "-genant_grade");
    var output = block.querySelector(".genant-suggestion");
    var userChose = grade && grade.value !== "";
    if (grade) { grade.addEventListener("change", function () { userChose = true; update(); }); }
    function update() {
      var r = rfvh(num(anterior), num(above), num(below));
      if (r === null) {
        output.textContent = "Enter the three heights to see the suggested grade.";
        output.classList.remove("text-warning-emphasis");
        return;
      }
      var loss = 100 - r;
      var suggested = suggestedGrade(loss);
      var text = "Height loss " + loss.toFixed(0) + " %: suggests Genant grade " + suggested;
      if (suggested === 0) { text += " (less than 20 %: no fracture by height)"; }
      if (grade && !userChose && suggested >= 1) { grade.value = String(suggested); }
      var mismatch = grade && grade.value !== "" && parseInt(grade.value, 10) !== suggested;
      if (mismatch) { text += ". You chose grade " + grade.value + ": it will be recorded as chosen."; }
      output.textContent = text;
      output.classList.toggle("text-warning-emphasis", !!mismatch);
    }
    [anterior, above, below].forEach(function (input) {
      if (input) { input.addEventListener("input", update); }
    });
    if (num(anterior) !== null) { update(); }
  });

  // --- visit form: ODI computed as answered (derived.odi_percent) ---------------------------
  document.querySelectorAll("[data-odi]").forEach(function (block) {
    var output = block.querySelector(".odi-score");
    function band(percent) {
      if (percent <= 20) { return "minimal"; }
      if (percent <= 40) { return "moderate"; }
      if (percent <= 60) { return "severe"; }
      if (percent <= 80) { return "crippled"; }
      return "bed-bound";
    }
    function update() {
      var answered = 0, sum = 0;
      block.querySelectorAll("input[data-odi-input]:checked").forEach(function (radio) {
        if (radio.value !== "") { answered += 1; sum += parseInt(radio.value, 10); }
      });
      if (answered < 8) {
        output.textContent = "ODI not scored yet: " + answered + " of 10 sections answered (8 needed)";
        return;
      }
      var percent = Math.round(sum / (5 * answered) * 1000) / 10;
      output.textContent = "ODI " + percent.toFixed(1) + " % (" + band(percent) + "), " +
        answered + " of 10 sections";
    }
    block.addEventListener("change", update);
    update();
  });

  // --- visit form: RFVH and the grade the heights suggest, per vertebra ---------------------
  document.querySelectorAll("[data-radiograph]").forEach(function (card) {
    var output = card.querySelector(".rfvh-output");
    var recorded = parseInt(card.dataset.recordedGrade, 10);
    var inputs = ["-anterior_height_mm", "-above_anterior_height_mm", "-below_anterior_height_mm",
      "-posterior_height_mm"].map(function (n) { return byName(card, n); });
    function update() {
      var r = rfvh(num(inputs[0]), num(inputs[1]), num(inputs[2]));
      if (r === null) {
        output.textContent = "RFVH appears when the anterior heights of this vertebra and of those above and below are entered.";
        output.classList.remove("text-warning-emphasis");
        return;
      }
      var loss = 100 - r;
      var suggested = suggestedGrade(loss);
      var text = "RFVH " + r.toFixed(1) + " % · height loss " + loss.toFixed(1) +
        " % · grade by height " + suggested;
      var beck = num(inputs[0]) && num(inputs[3]) ? num(inputs[0]) / num(inputs[3]) : null;
      if (beck !== null) { text += " · Beck index " + beck.toFixed(2); }
      var mismatch = suggested !== recorded;
      if (mismatch) { text += " (recorded grade " + recorded + ")"; }
      output.textContent = text;
      output.classList.toggle("text-warning-emphasis", mismatch);
    }
    inputs.forEach(function (input) { if (input) { input.addEventListener("input", update); } });
    update();
  });

  // --- procedure form: a vertebra's fields only when treated; leak details only on a leak ---
  document.querySelectorAll("[data-level-card]").forEach(function (card) {
    var fields = card.querySelector("[data-level-fields]");
    var treated = byName(card, "-treated");
    if (treated) {
      treated.addEventListener("change", function () { setDisabled(fields, !treated.checked); });
    }
    var leakage = byName(card, "-leakage");
    var details = card.querySelector("[data-leak-details]");
    if (!leakage || !details) { return; }
    function update() {
      var none = leakage.value === "none";
      details.querySelectorAll("input, select").forEach(function (input) {
        input.disabled = none;
        if (none) { if (input.type === "checkbox") { input.checked = false; } else { input.value = ""; } }
      });
      var location = byName(details, "-leakage_location");
      if (location) { location.required = leakage.value === "C"; }
    }
    leakage.addEventListener("change", update);
    update();
  });

  // --- patient form: BMI as typed -------------------------------------------------------------
  var bmi = document.getElementById("bmi-output");
  if (bmi) {
    var height = document.getElementById("id_height_cm");
    var weight = document.getElementById("id_weight_kg");
    var showBmi = function () {
      var h = num(height), w = num(weight);
      bmi.textContent = h && w ? (w / Math.pow(h / 100, 2)).toFixed(1) + " kg/m²" : "—";
    };
    [height, weight].forEach(function (input) { input.addEventListener("input", showBmi); });
    showBmi();
  }

  // --- visit form: is the date inside the chosen timepoint's window? ----------------------
  var timepoint = document.getElementById("id_timepoint");
  var visitDate = document.getElementById("id_visit_date");
  var check = document.getElementById("window-check");
  if (timepoint && visitDate && check) {
    var showWindow = function () {
      var row = document.querySelector('[data-window="' + timepoint.value + '"]');
      document.querySelectorAll("[data-window]").forEach(function (r) {
        r.classList.toggle("table-primary", r === row);
      });
      if (!row || !visitDate.value) {
        check.textContent = "Unscheduled visits have no window.";
        return;
      }
      var inside = visitDate.value >= row.dataset.start && visitDate.value <= row.dataset.end;
      check.textContent = inside ? "The date is inside the window." :
        "The date is outside the window: the visit will be kept and flagged.";
      check.classList.toggle("text-warning-emphasis", !inside);
    };
    timepoint.addEventListener("change", showWindow);
    visitDate.addEventListener("input", showWindow);
    showWindow();
  }
})();
