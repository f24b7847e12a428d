# Variables of the second trial's criteria (creatinine, platelets, its checklist).

from django.db import migrations, models

from trials import db_triggers


# The version columns fixed once signed, frozen as of this migration.
FIXED = (
    "trial_id",
    "number",
    "label",
    "ethics_reference",
    "ethics_approved_on",
    "effective_from",
    "based_on_id",
    "created_by_id",
    "created_at",
    "default_lookback_hours",
)


def install(apps, schema_editor):
    # SQLite rebuilds the condition table to change its constraints, which drops
    # its triggers.
    db_triggers.install(schema_editor.connection, fixed=FIXED)


class Migration(migrations.Migration):

    dependencies = [
        ('trials', '0006_richer_conditions'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='condition',
            name='condition_variable_registered',
        ),
        migrations.RemoveConstraint(
            model_name='condition',
            name='condition_boolean_shape',
        ),
        migrations.RemoveConstraint(
            model_name='condition',
            name='condition_between_bounds_ordered',
        ),
        migrations.RemoveConstraint(
            model_name='condition',
            name='condition_comparison_shape',
        ),
        migrations.RemoveConstraint(
            model_name='condition',
            name='condition_equals_shape',
        ),
        migrations.AlterField(
            model_name='condition',
            name='variable',
            field=models.CharField(choices=[('age_years', 'Age Years'), ('liver_failure_stage', 'Liver Failure Stage'), ('tbil_umol_l', 'Tbil Umol L'), ('tbil_rise_per_day', 'Tbil Rise Per Day'), ('pta_percent', 'Pta Percent'), ('inr', 'Inr'), ('he_grade', 'He Grade'), ('il6_pg_ml', 'Il6 Pg Ml'), ('tnf_alpha_pg_ml', 'Tnf Alpha Pg Ml'), ('crp_mg_l', 'Crp Mg L'), ('pct_ng_ml', 'Pct Ng Ml'), ('creatinine_umol_l', 'Creatinine Umol L'), ('platelets_10e9_l', 'Platelets 10E9 L'), ('meld', 'Meld'), ('able_to_communicate_and_complete', 'Able To Communicate And Complete'), ('written_informed_consent', 'Written Informed Consent'), ('severe_active_bleeding', 'Severe Active Bleeding'), ('dic', 'Dic'), ('allergy_blood_products_or_study_drugs', 'Allergy Blood Products Or Study Drugs'), ('circulatory_failure', 'Circulatory Failure'), ('severe_comorbidity', 'Severe Comorbidity'), ('diabetes', 'Diabetes'), ('investigator_excludes', 'Investigator Excludes'), ('aclf_diagnosis', 'Aclf Diagnosis'), ('toxic_symptoms', 'Toxic Symptoms'), ('ascites_none_or_mild', 'Ascites None Or Mild'), ('liver_cancer', 'Liver Cancer'), ('slowly_progressing_cirrhosis', 'Slowly Progressing Cirrhosis'), ('uncontrolled_severe_infection', 'Uncontrolled Severe Infection'), ('shock', 'Shock'), ('recent_active_bleeding', 'Recent Active Bleeding'), ('severe_esophageal_varices', 'Severe Esophageal Varices')], max_length=48, verbose_name='variable'),
        ),
        migrations.AlterField(
            model_name='historicalcondition',
            name='variable',
            field=models.CharField(choices=[('age_years', 'Age Years'), ('liver_failure_stage', 'Liver Failure Stage'), ('tbil_umol_l', 'Tbil Umol L'), ('tbil_rise_per_day', 'Tbil Rise Per Day'), ('pta_percent', 'Pta Percent'), ('inr', 'Inr'), ('he_grade', 'He Grade'), ('il6_pg_ml', 'Il6 Pg Ml'), ('tnf_alpha_pg_ml', 'Tnf Alpha Pg Ml'), ('crp_mg_l', 'Crp Mg L'), ('pct_ng_ml', 'Pct Ng Ml'), ('creatinine_umol_l', 'Creatinine Umol L'), ('platelets_10e9_l', 'Platelets 10E9 L'), ('meld', 'Meld'), ('able_to_communicate_and_complete', 'Able To Communicate And Complete'), ('written_informed_consent', 'Written Informed Consent'), ('severe_active_bleeding', 'Severe Active Bleeding'), ('dic', 'Dic'), ('allergy_blood_products_or_study_drugs', 'Allergy Blood Products Or Study Drugs'), ('circulatory_failure', 'Circulatory Failure'), ('severe_comorbidity', 'Severe Comorbidity'), ('diabetes', 'Diabetes'), ('investigator_excludes', 'Investigator Excludes'), ('aclf_diagnosis', 'Aclf Diagnosis'), ('toxic_symptoms', 'Toxic Symptoms'), ('ascites_none_or_mild', 'Ascites None Or Mild'), ('liver_cancer', 'Liver Cancer'), ('slowly_progressing_cirrhosis', 'Slowly Progressing Cirrhosis'), ('uncontrolled_severe_infection', 'Uncontrolled Severe Infection'), ('shock', 'Shock'), ('recent_active_bleeding', 'Recent Active Bleeding'), ('severe_esophageal_varices', 'Severe Esophageal Varices')], max_length=48, verbose_name='variable'),
        ),
        migrations.AddConstraint(
            model_name='condition',
            constraint=models.CheckConstraint(condition=models.Q(('variable__in', ['age_years', 'liver_failure_stage', 'tbil_umol_l', 'tbil_rise_per_day', 'pta_percent', 'inr', 'he_grade', 'il6_pg_ml', 'tnf_alpha_pg_ml', 'crp_mg_l', 'pct_ng_ml', 'creatinine_umol_l', 'platelets_10e9_l', 'meld', 'able_to_communicate_and_complete', 'written_informed_consent', 'severe_active_bleeding', 'dic', 'allergy_blood_products_or_study_drugs', 'circulatory_failure', 'severe_comorbidity', 'diabetes', 'investigator_excludes', 'aclf_diagnosis', 'toxic_symptoms', 'ascites_none_or_mild', 'liver_cancer', 'slowly_progressing_cirrhosis', 'uncontrolled_severe_infection', 'shock', 'recent_active_bleeding', 'severe_esophageal_varices'])), name='condition_variable_registered', violation_error_code='condition_variable_registered'),
        ),
        migrations.AddConstraint(
            model_name='condition',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('operator__in', ['IS_FALSE', 'IS_TRUE']), _negated=True), models.Q(('value_high__isnull', True), ('value_low__isnull', True), ('values', ''), ('variable__in', ['able_to_communicate_and_complete', 'written_informed_consent', 'severe_active_bleeding', 'dic', 'allergy_blood_products_or_study_drugs', 'circulatory_failure', 'severe_comorbidity', 'diabetes', 'investigator_excludes', 'aclf_diagnosis', 'toxic_symptoms', 'ascites_none_or_mild', 'liver_cancer', 'slowly_progressing_cirrhosis', 'uncontrolled_severe_infection', 'shock', 'recent_active_bleeding', 'severe_esophageal_varices'])), _connector='OR'), name='condition_boolean_shape', violation_error_code='condition_boolean_shape'),
        ),
        migrations.AddConstraint(
            model_name='condition',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('operator', 'BETWEEN'), _negated=True), models.Q(('value_high__isnull', False), ('value_low__isnull', False), ('value_low__lte', models.F('value_high')), ('values', ''), ('variable__in', ['age_years', 'tbil_umol_l', 'tbil_rise_per_day', 'pta_percent', 'inr', 'he_grade', 'il6_pg_ml', 'tnf_alpha_pg_ml', 'crp_mg_l', 'pct_ng_ml', 'creatinine_umol_l', 'platelets_10e9_l', 'meld'])), _connector='OR'), name='condition_between_bounds_ordered', violation_error_code='condition_between_bounds_ordered'),
        ),
        migrations.AddConstraint(
            model_name='condition',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('operator__in', ['GT', 'GTE', 'LT', 'LTE']), _negated=True), models.Q(('value_high__isnull', True), ('value_low__isnull', False), ('values', ''), ('variable__in', ['age_years', 'tbil_umol_l', 'tbil_rise_per_day', 'pta_percent', 'inr', 'he_grade', 'il6_pg_ml', 'tnf_alpha_pg_ml', 'crp_mg_l', 'pct_ng_ml', 'creatinine_umol_l', 'platelets_10e9_l', 'meld'])), _connector='OR'), name='condition_comparison_shape', violation_error_code='condition_comparison_shape'),
        ),
        migrations.AddConstraint(
            model_name='condition',
            constraint=models.CheckConstraint(condition=models.Q(models.Q(('operator', 'EQ'), _negated=True), models.Q(('value_high__isnull', True), ('value_low__isnull', False), ('values', ''), ('variable__in', ['age_years', 'tbil_umol_l', 'tbil_rise_per_day', 'pta_percent', 'inr', 'he_grade', 'il6_pg_ml', 'tnf_alpha_pg_ml', 'crp_mg_l', 'pct_ng_ml', 'creatinine_umol_l', 'platelets_10e9_l', 'meld'])), models.Q(('value_high__isnull', True), ('value_low__isnull', True), ('variable__in', ['liver_failure_stage']), models.Q(('values', ''), _negated=True)), _connector='OR'), name='condition_equals_shape', violation_error_code='condition_equals_shape'),
        ),
        migrations.RunPython(install, migrations.RunPython.noop),
    ]
